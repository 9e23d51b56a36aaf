package scraper

import (
	"bufio"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// processTree returns pid and all its descendants, with their command lines.
func processTree(pid int) map[int]string {
	parent := map[int]int{}
	cmdline := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(st)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		parent[p], _ = strconv.Atoi(f[1])
		b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		cmdline[p] = strings.ReplaceAll(string(b), "\x00", " ")
	}
	tree := map[int]string{pid: cmdline[pid]}
	for grew := true; grew; {
		grew = false
		for p, pp := range parent {
			if _, in := tree[p]; !in {
				if _, up := tree[pp]; up {
					tree[p] = cmdline[p]
					grew = true
				}
			}
		}
	}
	return tree
}

// tcpListeners returns the inodes of listening TCP sockets (IPv4 and IPv6) and their local ports.
func tcpListeners(t *testing.T) map[string]int {
	out := map[string]int{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			if f == "/proc/net/tcp" {
				t.Fatal(err)
			}
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Scan() // the header
		for sc.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" { // 0A: TCP_LISTEN
				continue
			}
			_, portHex, _ := strings.Cut(fields[1], ":")
			port, _ := strconv.ParseInt(portHex, 16, 32)
			out[fields[9]] = int(port)
		}
		fh.Close()
	}
	return out
}

// socketInodes returns the inodes of the sockets process pid holds open.
func socketInodes(pid int) []string {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]"))
		}
	}
	return out
}

// TestNoTCPListenerDuringScrape scrapes the demo portal while sampling every process of ours
// (this test process and the browser's processes under it): none may hold a listening TCP socket,
// apart from the demo portal's own listener in this process. A DevTools port would be one.
func TestNoTCPListenerDuringScrape(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	p, base := startPortal(t, demoportal.Options{Seed: 5, Count: 60, Faults: demoportal.Faults{Latency: 40 * time.Millisecond}})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	portalPort, _ := strconv.Atoi(u.Port())
	s, _ := newScraper(t, p, base, func(_ *Profile, c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	})

	var (
		mu         sync.Mutex
		samples    int
		browserPID int
		offenders  []string
	)
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			listeners := tcpListeners(t)
			for pid, cmd := range processTree(os.Getpid()) {
				for _, ino := range socketInodes(pid) {
					if port, ok := listeners[ino]; ok && !(pid == os.Getpid() && port == portalPort) {
						mu.Lock()
						offenders = append(offenders, strconv.Itoa(pid)+" listens on port "+strconv.Itoa(port)+": "+cmd)
						mu.Unlock()
					}
				}
				if strings.Contains(cmd, "--user-data-dir=") && !strings.Contains(cmd, "--type=") {
					mu.Lock()
					browserPID = pid
					mu.Unlock()
				}
			}
			mu.Lock()
			samples++
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	res, err := s.Scrape(testCtx(t, 2*time.Minute), scheduler.ScrapeRequest{RunID: 1})
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Orders) != 60 {
		t.Fatalf("%d orders, want 60", len(res.Orders))
	}
	mu.Lock()
	defer mu.Unlock()
	if browserPID == 0 {
		t.Fatalf("no sample (of %d) saw the browser running under this process", samples)
	}
	if len(offenders) > 0 {
		t.Fatalf("processes of ours listened on TCP during the scrape: %q", offenders[:min(len(offenders), 5)])
	}
	t.Logf("%d samples, browser pid %d", samples, browserPID)
}
