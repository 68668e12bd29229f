package dialogs

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/looplab/fsm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every move in the table, from every step it is declared for, goes
// through the FSM to the step it names: a self-move (a question asked
// again) included.
func TestEveryDeclaredMoveMoves(t *testing.T) {
	table := transitions(stepDefs())
	n := 0
	for _, ev := range table {
		for _, src := range ev.Src {
			f := fsm.NewFSM(src, table, nil)
			err := f.Event(context.Background(), ev.Name)
			if src == ev.Dst {
				assert.True(t, errors.As(err, new(fsm.NoTransitionError)), "self-move %s at %s: %v", ev.Name, src, err)
			} else {
				assert.NoError(t, err, "move %s at %s", ev.Name, src)
			}
			assert.Equal(t, ev.Dst, f.Current(), "move %s at %s", ev.Name, src)
			n++
		}
	}
	assert.Greater(t, n, 100)
	// Each step's own moves are in the table as declared.
	for _, d := range stepDefs() {
		for m, dst := range d.moves {
			f := fsm.NewFSM(d.name, table, nil)
			_ = f.Event(context.Background(), string(m))
			assert.Equal(t, dst, f.Current(), "step %s, move %s", d.name, m)
		}
	}
}

// The code fires only moves the table declares, each named by a move
// constant (or editMove/resumeMove), and the table declares no move the
// code never makes.
func TestFiredMovesAreDeclared(t *testing.T) {
	declared := map[string]bool{}
	for _, ev := range transitions(stepDefs()) {
		declared[ev.Name] = true
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	consts := map[string]string{} // ev name → value
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "move" {
					for i, name := range n.Names {
						lit := n.Values[i].(*ast.BasicLit)
						consts[name.Name] = strings.Trim(lit.Value, `"`)
					}
				}
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || len(n.Args) == 0 {
					return true
				}
				var arg ast.Expr
				switch sel.Sel.Name {
				case "fire", "advance":
					arg = n.Args[0]
				case "sendCode":
					arg = n.Args[1]
				default:
					return true
				}
				switch a := arg.(type) {
				case *ast.Ident:
					if a.Name != "event" {
						used[a.Name] = true
					} else {
						// a move passed on by sendCode or advance: its callers are checked
					}
				case *ast.CallExpr:
					fn, _ := a.Fun.(*ast.Ident)
					assert.True(t, fn != nil && (fn.Name == "editMove" || fn.Name == "resumeMove"),
						"%s: a move is an ev constant, editMove or resumeMove", fset.Position(a.Pos()))
				default:
					t.Errorf("%s: a move is an ev constant, editMove or resumeMove", fset.Position(arg.Pos()))
				}
			}
			return true
		})
	}
	require.NotEmpty(t, consts)
	for name, value := range consts {
		assert.True(t, declared[value], "move %s (%q) is in no step's moves", name, value)
	}
	for name := range used {
		_, ok := consts[name]
		assert.True(t, ok, "%s is fired but is not a move constant", name)
	}
	for _, d := range stepDefs() {
		for m := range d.moves {
			assert.Contains(t, consts, constName(consts, string(m)), "step %s declares %q, which is no move constant", d.name, m)
		}
	}
}

func constName(consts map[string]string, value string) string {
	for k, v := range consts {
		if v == value {
			return k
		}
	}
	return ""
}
