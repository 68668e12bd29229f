package dialogs_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs"
)

// BenchmarkEngine is the dialog alone: one answer at the summary step.
func BenchmarkEngine(b *testing.B) {
	f := newFixture(b, nil)
	c := &chat{t: b, f: f, id: 1}
	throughSummary(c)
	st, err := f.store.Load(context.Background(), 1)
	require.NoError(b, err)
	in := dialogs.Input{Kind: dialogs.InText, Text: "hello"}
	b.ReportAllocs()
	for b.Loop() {
		s := *st
		f.engine.Handle(context.Background(), &s, in)
	}
}
