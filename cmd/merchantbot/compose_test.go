package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/merchantbot/merchantbot/dialogs/store"
)

// composeFile is the part of docker-compose.yml the demo depends on.
type composeFile struct {
	Services map[string]struct {
		Build       any               `yaml:"build"`
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		EnvFile     []string          `yaml:"env_file"`
		Volumes     []string          `yaml:"volumes"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// acceptedEnv is every variable the merchantbot command reads: the names
// passed to getenv in its source.
func acceptedEnv(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	getenv := regexp.MustCompile(`getenv\("([A-Z0-9_]+)"\)`)
	names := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range getenv.FindAllSubmatch(src, -1) {
			names[string(m[1])] = true
		}
	}
	if !names["TELEGRAM_TOKEN"] || !names["REDIS_URL"] {
		t.Fatalf("read the wrong files: %v", names)
	}
	return names
}

// envExample is .env.example's variables, set or commented out, in order.
func envExample(t *testing.T) (names []string, values map[string]string) {
	t.Helper()
	raw, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	values = map[string]string{}
	line := regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9_]*)=(.*)$`)
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if m := line.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			names = append(names, m[1])
			if !strings.HasPrefix(sc.Text(), "#") {
				values[m[1]] = m[2]
			}
		}
	}
	return names, values
}

func TestComposeDemo(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"bot", "sandbox", "redis"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("no service %q", name)
		}
	}
	redisSvc, sandbox, bot := c.Services["redis"], c.Services["sandbox"], c.Services["bot"]

	// Redis keeps what it is told across restarts.
	cmd := strings.Join(redisSvc.Command, " ")
	if !strings.Contains(cmd, "--appendonly yes") || len(redisSvc.Volumes) == 0 ||
		!strings.HasSuffix(redisSvc.Volumes[0], ":/data") {
		t.Fatalf("redis: want --appendonly yes and a volume on /data, got %q %q", cmd, redisSvc.Volumes)
	}
	if _, ok := c.Volumes[strings.Split(redisSvc.Volumes[0], ":")[0]]; !ok {
		t.Fatalf("redis volume %q is not declared", redisSvc.Volumes[0])
	}

	// The sandbox listens where the bot and its health check look.
	if len(sandbox.Command) < 3 || sandbox.Command[0] != "sandbox" || sandbox.Command[1] != "-addr" {
		t.Fatalf("sandbox command %q", sandbox.Command)
	}
	_, sandboxPort, err := net.SplitHostPort(sandbox.Command[2])
	if err != nil {
		t.Fatalf("sandbox -addr: %v", err)
	}
	if h := sandbox.Healthcheck.Test; len(h) < 3 || h[1] != "/merchantbot" || h[2] != "healthcheck" ||
		!slices.Contains(h, "127.0.0.1:"+sandboxPort) {
		t.Fatalf("sandbox health check %q does not check port %s", h, sandboxPort)
	}

	// The bot: token from the env file, Redis and the sandbox by service name.
	if bot.Command[0] != "serve" || !slices.Contains(bot.EnvFile, ".env") {
		t.Fatalf("bot: command %q env_file %q", bot.Command, bot.EnvFile)
	}
	if bot.Image != sandbox.Image || bot.Build == nil {
		t.Fatal("bot and sandbox must run the image built from this repository")
	}
	for _, dep := range []string{"redis", "sandbox"} {
		if bot.DependsOn[dep].Condition != "service_healthy" {
			t.Errorf("bot does not wait for %s to be healthy", dep)
		}
	}
	u, err := url.Parse(bot.Environment["BACKEND_URL"])
	if err != nil || u.Hostname() != "sandbox" || u.Port() != sandboxPort {
		t.Fatalf("BACKEND_URL %q does not point at the sandbox service's port %s", bot.Environment["BACKEND_URL"], sandboxPort)
	}
	if rc, err := parseRedisURL(bot.Environment["REDIS_URL"]); err != nil || rc.mode != redisSingle || rc.single.Addr != "redis:6379" {
		t.Fatalf("REDIS_URL %q does not point at the redis service: %v", bot.Environment["REDIS_URL"], err)
	}

	// Every variable compose or .env.example sets is one the binary reads.
	accepted := acceptedEnv(t)
	names, values := envExample(t)
	for _, svc := range []string{"bot", "sandbox"} {
		for k := range c.Services[svc].Environment {
			names = append(names, k)
		}
	}
	for _, k := range names {
		if !accepted[k] {
			t.Errorf("%s is set for the demo but merchantbot never reads it", k)
		}
	}
	if _, ok := values["TELEGRAM_TOKEN"]; !ok {
		t.Error(".env.example does not name TELEGRAM_TOKEN")
	}
	if _, ok := values["DATA_KEY"]; !ok {
		t.Error(".env.example does not name DATA_KEY")
	}

	// With the two blanks of .env.example filled, serve accepts the
	// environment compose gives it.
	env := map[string]string{}
	for k, v := range values {
		env[k] = v
	}
	for k, v := range bot.Environment {
		env[k] = v
	}
	env["TELEGRAM_TOKEN"] = "123456:demo-token_x"
	env["DATA_KEY"] = base64.StdEncoding.EncodeToString(store.RandomKey())
	if _, err := loadServeConfig(func(k string) string { return env[k] }); err != nil {
		t.Fatalf("serve rejects the demo environment: %v", err)
	}
}

func TestDockerfileHealthcheck(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	if !strings.Contains(df, "FROM gcr.io/distroless/") {
		t.Fatal("the runtime image is no longer distroless: revisit the health check")
	}
	if !regexp.MustCompile(`(?m)^\s*CMD \["/merchantbot", "healthcheck"\]`).MatchString(df) ||
		!strings.Contains(df, "HEALTHCHECK ") {
		t.Fatal("Dockerfile has no exec-form HEALTHCHECK running /merchantbot healthcheck (no shell in distroless)")
	}
	if !strings.Contains(df, `COPY --from=build /out/merchantbot /merchantbot`) {
		t.Fatal("the binary is not at /merchantbot, where the health check runs it")
	}
}
