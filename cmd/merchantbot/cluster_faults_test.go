package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/merchantbot/merchantbot/dialogs/store/redistest"
)

// TestFaultKill9Cluster is TestFaultKill9 (polling) with the bot on the
// 3-master test cluster, REDIS_URL written as README documents it.
func TestFaultKill9Cluster(t *testing.T) {
	redistest.Cluster(t)
	t.Parallel()
	r := newFaultRig(t, false)
	rdb, prefix := redistest.NewCluster(t)
	_ = rdb
	r.prefix = prefix
	r.env["REDIS_URL"] = redistest.ClusterURL()
	r.env["REDIS_PREFIX"] = prefix
	faultKill9(t, r, "polling on a cluster")
}

// TestFaultClusterMasterRestart is TestFaultRedisRestart on a Redis
// Cluster of the test's own (3 masters, no replicas, append-only with
// fsync always, on 127.0.0.1:7111-7113): one master is killed while 20
// merchants walk and started again on its files. Nothing acknowledged is
// lost: every merchant's transcript is whole and in order, each told at
// most once that their progress is safe.
func TestFaultClusterMasterRestart(t *testing.T) {
	redistest.Cluster(t) // runs where the cluster tests run
	t.Parallel()
	c := startTestCluster(t, []int{7111, 7112, 7113})
	r := newFaultRig(t, false)
	r.env["REDIS_URL"] = c.url()
	faultRedisRestart(t, r, &downNode{c.nodes[1], c.nodes[0]}, "polling on a cluster, a master restarted")
}

// downNode is a cluster's master to kill and restart, and another that
// tells when the cluster has noticed it is gone.
type downNode struct {
	*clusterNode
	witness *clusterNode
}

// waitDown waits until the witness says cluster_state:fail: the cluster
// refuses every write until the master is back.
func (d *downNode) waitDown() {
	t := d.t
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", d.witness.port)})
	defer rdb.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, _ := rdb.ClusterInfo(context.Background()).Result()
		if strings.Contains(info, "cluster_state:fail") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster did not notice its master gone: %s", info)
		}
		time.Sleep(50 * time.Millisecond) // polling a condition
	}
}

type testCluster struct{ nodes []*clusterNode }

// clusterNode is one master of a test cluster: killed and started again on
// its own directory (append-only file and nodes.conf), it rejoins with its
// slots and what it acknowledged.
type clusterNode struct {
	t      *testing.T
	port   int
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
}

func (c *testCluster) url() string {
	u := fmt.Sprintf("redis://127.0.0.1:%d", c.nodes[0].port)
	for i, n := range c.nodes[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += fmt.Sprintf("%saddr=127.0.0.1:%d", sep, n.port)
	}
	return u
}

func startTestCluster(t *testing.T, ports []int) *testCluster {
	t.Helper()
	c := &testCluster{}
	var addrs []string
	for _, p := range ports {
		n := &clusterNode{t: t, port: p, dir: t.TempDir()}
		n.start()
		t.Cleanup(n.kill)
		c.nodes = append(c.nodes, n)
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", p))
	}
	out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...),
		"--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	require.NoError(t, err, "redis-cli --cluster create: %s", out)
	c.waitOK()
	return c
}

// waitOK waits until every node says cluster_state:ok.
func (c *testCluster) waitOK() {
	t := c.nodes[0].t
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range c.nodes {
		rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", n.port)})
		for {
			info, _ := rdb.ClusterInfo(context.Background()).Result()
			if strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				rdb.Close()
				t.Fatalf("test cluster not ok: %s", info)
			}
			time.Sleep(50 * time.Millisecond) // polling a condition
		}
		rdb.Close()
	}
}

func (n *clusterNode) start() {
	n.t.Helper()
	port := fmt.Sprint(n.port)
	n.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", n.dir,
		"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(n.dir, "nodes.conf"),
		"--cluster-node-timeout", "2000", "--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--protected-mode", "no")
	logs, err := os.OpenFile(filepath.Join(n.dir, "redis.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(n.t, err)
	n.cmd.Stdout, n.cmd.Stderr = logs, logs
	require.NoError(n.t, n.cmd.Start())
	exited := make(chan struct{})
	n.exited = exited
	go func() { _ = n.cmd.Wait(); logs.Close(); close(exited) }()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(n.dir, "redis.log"))
			n.t.Fatalf("cluster node %s did not start:\n%s", port, b)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
}

// kill ends the node at once, as a crash would.
func (n *clusterNode) kill() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	select {
	case <-n.exited:
	default:
		_ = n.cmd.Process.Signal(syscall.SIGKILL)
		<-n.exited
	}
}
