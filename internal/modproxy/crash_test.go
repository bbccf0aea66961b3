package modproxy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/module"

	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modstore"
)

// The crash test runs this test binary a second time as a proxy it can
// SIGKILL: with childHomeEnv set, TestMain serves a proxy over the home it
// names (its store/ and tmp/, as `hegui proxy serve` lays them out), with
// the upstream childUpstreamEnv names, on 127.0.0.1, and writes the address
// to the file childAddrEnv names. childPauseEnv, if set, stops the child
// forever at a point of storing the module zip (pauseStoreWrite,
// pauseBeforeRecord), after creating the file childAddrEnv names with
// ".paused" added, so that the test kills it exactly there.
const (
	childHomeEnv     = "HEGUI_TEST_MODPROXY_HOME"
	childUpstreamEnv = "HEGUI_TEST_MODPROXY_UPSTREAM"
	childAddrEnv     = "HEGUI_TEST_MODPROXY_ADDR"
	childPauseEnv    = "HEGUI_TEST_MODPROXY_PAUSE"
)

// Where a child proxy stops for the kill.
const (
	// pauseStoreWrite stops in the middle of writing the zip into the
	// store, once a megabyte of it is in the store's temporary file.
	pauseStoreWrite = "store-write"
	// pauseBeforeRecord stops after the zip is stored, before its record.
	pauseBeforeRecord = "before-record"
)

func TestMain(m *testing.M) {
	if home := os.Getenv(childHomeEnv); home != "" {
		if err := serveChild(home, os.Getenv(childUpstreamEnv), os.Getenv(childAddrEnv), os.Getenv(childPauseEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "child proxy:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	code := m.Run()
	gateway.Stop() // the versitygw of the replica tests (replicas_test.go)
	os.Exit(code)
}

// serveChild serves the proxy until it is killed, or until its standard
// input closes (the test that started it is gone).
func serveChild(home, upstreamURL, addrFile, pause string) error {
	dir, err := modstore.NewDir(filepath.Join(home, modproxy.StoreDir))
	if err != nil {
		return err
	}
	var store modstore.Store = dir
	if pause != "" {
		store = &pausingStore{Store: dir, at: pause, marker: addrFile + ".paused"}
	}
	tmp := filepath.Join(home, modproxy.TempDir)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	p, err := modproxy.New(modproxy.Options{
		Store:    store,
		Upstream: upstreamURL,
		TempDir:  tmp,
		Log:      slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if err := os.WriteFile(addrFile+".tmp", []byte(ln.Addr().String()), 0o644); err != nil {
		return err
	}
	if err := os.Rename(addrFile+".tmp", addrFile); err != nil {
		return err
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	return http.Serve(ln, p)
}

// pausingStore is the child's store: it stops the process's store writes
// for good at its point in storing a module zip, once it has created the
// marker file that tells the test to kill it.
type pausingStore struct {
	modstore.Store
	at, marker string
}

func (s *pausingStore) Create(ctx context.Context, key string, r io.Reader) error {
	if !strings.HasSuffix(key, "."+modstore.Zip) {
		return s.Store.Create(ctx, key, r)
	}
	if s.at == pauseStoreWrite {
		r = &pausingReader{r: r, after: 1 << 20, pause: s.pause}
	}
	err := s.Store.Create(ctx, key, r)
	if err == nil && s.at == pauseBeforeRecord {
		s.pause()
	}
	return err
}

func (s *pausingStore) pause() {
	if err := os.WriteFile(s.marker, nil, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "child proxy: pause marker:", err)
		os.Exit(2)
	}
	select {} // until SIGKILL
}

// pausingReader pauses once more than after bytes were read through it.
type pausingReader struct {
	r     io.Reader
	n     int64
	after int64
	pause func()
}

func (p *pausingReader) Read(b []byte) (int, error) {
	if p.n > p.after {
		p.pause()
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	return n, err
}

// childProxy is this test binary run as a proxy (see TestMain).
type childProxy struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	stderr   bytes.Buffer // read only after done is closed
	done     chan struct{}
	URL      string
	addrFile string
}

// startChildProxy runs a proxy over home in a child process, fetching
// from upstreamURL and pausing at pause (none when empty).
func startChildProxy(t *testing.T, home, upstreamURL, pause string) *childProxy {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &childProxy{done: make(chan struct{}), addrFile: filepath.Join(t.TempDir(), "addr")}
	c.cmd = exec.Command(exe)
	c.cmd.Env = append(os.Environ(), childHomeEnv+"="+home, childUpstreamEnv+"="+upstreamURL, childAddrEnv+"="+c.addrFile, childPauseEnv+"="+pause)
	c.cmd.Stderr = &c.stderr
	// The child exits when this pipe closes, so it never outlives the test.
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.kill()
		if out := strings.TrimSpace(c.stderr.String()); t.Failed() && out != "" {
			t.Logf("child proxy stderr:\n%s", out)
		}
	})
	waitFor(t, "the child proxy to listen", c.done, func() bool {
		addr, err := os.ReadFile(c.addrFile)
		if err == nil {
			c.URL = "http://" + string(addr)
		}
		return err == nil
	})
	return c
}

// paused reports whether the child stopped at its pause point.
func (c *childProxy) paused() bool {
	_, err := os.Stat(c.addrFile + ".paused")
	return err == nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *childProxy) kill() {
	c.cmd.Process.Kill()
	c.stdin.Close()
	<-c.done
}

// waitLimit bounds every wait for another process: far longer than
// anything takes here, so that it only ends a test that would hang.
const waitLimit = 30 * time.Second

// waitFor polls cond until it holds, failing the test when exited is
// closed first or after waitLimit.
func waitFor(t *testing.T, what string, exited <-chan struct{}, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		select {
		case <-exited:
			t.Fatalf("waiting for %s: the process exited", what)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not after %v", what, waitLimit)
		}
	}
}

// goRun is a go command running in the background.
type goRun struct {
	out  bytes.Buffer // read only after done is closed
	err  error
	done chan struct{}
}

func startGo(t *testing.T, env []string, args ...string) *goRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = t.TempDir(), env
	g := &goRun{done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &g.out, &g.out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		g.err = cmd.Wait()
		cancel()
		close(g.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-g.done
	})
	return g
}

// The module the crash test downloads: a zip of 9 MiB, so that the kill
// lands with part of it written.
const (
	crashModule  = "golang.org/x/text"
	crashVersion = "v0.21.0"
)

// downloadResult is what go mod download -json prints of a module.
type downloadResult struct {
	Path, Version, Error, Sum, Zip string
}

// TestCrashDuringFetch SIGKILLs a proxy while it fetches a module zip for
// the go command: in the middle of the download from the upstream (which
// stalls after half the zip), in the middle of writing the zip into the
// store, and between storing the zip and its record. Each time the go
// command fails with an error naming the zip; the store holds no record of
// the zip, and nothing of it that any proxy serves; complete files stay
// served. A new proxy over the same home then serves the module to the go
// command, verified, and the download left in tmp/ is harmless until it
// is old enough to be removed, which the next proxy opening the home does.
func TestCrashDuringFetch(t *testing.T) {
	up := upstream(t)
	zipPath := "/" + crashModule + "/@v/" + crashVersion + ".zip"
	zipKey, err := modstore.ModuleKey(crashModule, crashVersion, modstore.Zip)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		pause string // empty: the upstream stalls the zip after half of it
	}{
		{"mid-download", ""},
		{"mid-store-write", pauseStoreWrite},
		{"between-zip-and-record", pauseBeforeRecord},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			halfSent := make(chan int, 1)
			var once sync.Once
			stall := func(w http.ResponseWriter, r *http.Request) bool {
				if tc.pause != "" || r.URL.Path != zipPath {
					return false
				}
				data := readUpstream(t, up+zipPath)
				w.Header().Set("Content-Length", strconv.Itoa(len(data)))
				w.Write(data[:len(data)/2])
				http.NewResponseController(w).Flush()
				once.Do(func() { halfSent <- len(data) / 2 })
				<-r.Context().Done() // until the proxy asking is gone
				return true
			}
			relay := startHostileUpstream(t, up, stall)
			child := startChildProxy(t, home, relay.URL, tc.pause)
			gocmd := startGo(t, goEnv(t, child.URL), "mod", "download", "-json", crashModule+"@"+crashVersion)

			tmpDir := filepath.Join(home, modproxy.TempDir)
			half := -1 // bytes of the zip the upstream sent, when it stalls
			if tc.pause == "" {
				// Kill once the half the upstream sent is in the download.
				select {
				case half = <-halfSent:
				case <-gocmd.done:
					t.Fatalf("the go command ended before the zip was half sent: %v\n%s", gocmd.err, gocmd.out.String())
				case <-time.After(waitLimit):
					t.Fatal("the upstream was not asked for the zip")
				}
				waitFor(t, "the half zip in "+tmpDir, child.done, func() bool {
					return totalSize(t, tmpDir) >= int64(half)
				})
			} else {
				waitFor(t, "the child to pause at "+tc.pause, child.done, child.paused)
			}
			child.kill()
			<-gocmd.done

			// The go command fails, and says which file.
			if gocmd.err == nil {
				t.Fatalf("go mod download succeeded through a proxy killed mid-fetch:\n%s", gocmd.out.String())
			}
			var res downloadResult
			if err := json.Unmarshal(gocmd.out.Bytes(), &res); err != nil || !strings.Contains(res.Error, crashModule+"/@v/"+crashVersion+".zip") {
				t.Errorf("go mod download error %q (%v), want one naming the zip:\n%s", res.Error, err, gocmd.out.String())
			}
			t.Logf("the go command: %s", res.Error)

			// No record of the zip, complete files with their records, and
			// what the kill interrupted only where nothing reads it.
			storeDir := filepath.Join(home, modproxy.StoreDir)
			objects, hidden := dirObjects(t, storeDir)
			orphans := checkModuleFiles(t, objects)
			wantOrphans := []string(nil)
			if tc.pause == pauseBeforeRecord {
				wantOrphans = []string{zipKey}
			}
			if !slices.Equal(orphans, wantOrphans) {
				t.Errorf("module files without a record: %q, want %q", orphans, wantOrphans)
			}
			for _, kind := range []string{modstore.Info, modstore.Mod} {
				if key, _ := modstore.RecordKey(crashModule, crashVersion, kind); objects[key] == nil {
					t.Errorf("%s is not stored: the files fetched before the zip should be", key)
				}
			}
			// The store's temporary files of the zip: one when the kill
			// came as it was written. Others may be there: the proxy
			// prefetches the go.mod files x/text requires, with their
			// checksum-database tiles, while the zip downloads, and the
			// kill can land in one of those writes; they are hidden like
			// the zip's, and removed once stale (checked below).
			zipTemp := path.Dir(zipKey) + "/." + path.Base(zipKey) + ".tmp-"
			var zipHidden []string
			for _, h := range hidden {
				if strings.HasPrefix(h, zipTemp) {
					zipHidden = append(zipHidden, h)
				}
			}
			wantHidden := 0
			if tc.pause == pauseStoreWrite {
				wantHidden = 1
			}
			if len(zipHidden) != wantHidden {
				t.Errorf("temporary files of the zip in the store: %q, want %d (all: %q)", zipHidden, wantHidden, hidden)
			}
			downloads := dirFiles(t, tmpDir)
			if len(downloads) != 1 {
				t.Fatalf("%s holds %v, want the one interrupted download", tmpDir, downloads)
			}
			if half >= 0 && downloads[0].size != int64(half) {
				t.Errorf("the interrupted download holds %d bytes, want the %d the upstream sent", downloads[0].size, half)
			}
			if tc.pause == pauseBeforeRecord {
				// The orphan is whole here (the directory store renames a
				// complete file into place), but a file without a record is
				// never to be trusted, only replaced: change a byte, so that
				// a proxy that served or kept it would show.
				p := filepath.Join(storeDir, filepath.FromSlash(zipKey))
				objects[zipKey][len(objects[zipKey])/2] ^= 0x01
				if err := os.WriteFile(p, objects[zipKey], 0o644); err != nil {
					t.Fatal(err)
				}
			}

			// Nothing of the zip is served, by a proxy that cannot fetch it
			// again; the complete files are.
			offline := startProxy(t, storeDir, modproxy.Options{Offline: true})
			if code, body := get(t, offline.URL+zipPath); code != http.StatusNotFound || !strings.Contains(body, "not stored") {
				t.Errorf("offline after the kill: the zip answers %d %q, want 404 not stored", code, body)
			}
			if code, _ := get(t, offline.URL+"/"+crashModule+"/@v/"+crashVersion+".mod"); code != http.StatusOK {
				t.Errorf("offline after the kill: the go.mod answers %d, want 200", code)
			}

			// A new proxy over the home serves the module, verified, to a go
			// command with a fresh module cache.
			restarted := openHome(t, home, up)
			out := runGo(t, t.TempDir(), goEnv(t, restarted.URL), false, "mod", "download", "-json", crashModule+"@"+crashVersion)
			res = downloadResult{}
			if err := json.Unmarshal([]byte(out), &res); err != nil || res.Error != "" || res.Sum == "" {
				t.Fatalf("go mod download after the restart: %v\n%s", err, out)
			}
			objects, _ = dirObjects(t, storeDir)
			if orphans := checkModuleFiles(t, objects); len(orphans) != 0 {
				t.Errorf("module files without a record after the restart: %q", orphans)
			}
			if rec, err := modstore.ReadRecord(t.Context(), restarted.store, crashModule, crashVersion, modstore.Zip); err != nil || rec.Hash != res.Sum {
				t.Errorf("the zip's record after the restart: %+v, %v; want hash %s", rec, err, res.Sum)
			}
			if n := countFiles(t, filepath.Join(storeDir, "quarantine")); n != 0 {
				t.Errorf("%d files quarantined: the file left without a record was served or kept", n)
			}
			got, err := os.ReadFile(res.Zip)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, objects[zipKey]) {
				t.Errorf("the go command's zip differs from the stored one")
			}

			// The interrupted download is still in tmp/ (it is younger than
			// any fetch may last), outside the store; once old enough, the
			// next proxy to open the home removes it.
			if left := dirFiles(t, tmpDir); len(left) != 1 || left[0].name != downloads[0].name {
				t.Errorf("%s holds %v after the restart, want %s still", tmpDir, left, downloads[0].name)
			}
			old := time.Now().Add(-21 * time.Minute)
			if err := os.Chtimes(filepath.Join(tmpDir, downloads[0].name), old, old); err != nil {
				t.Fatal(err)
			}
			_, hidden = dirObjects(t, storeDir)
			for _, h := range hidden {
				if err := os.Chtimes(filepath.Join(storeDir, filepath.FromSlash(h)), old, old); err != nil {
					t.Fatal(err)
				}
			}
			openHome(t, home, up)
			if left := dirFiles(t, tmpDir); len(left) != 0 {
				t.Errorf("%s holds %v after a proxy opened the home, want the stale download removed", tmpDir, left)
			}
			if len(hidden) > 0 {
				t.Logf("the interrupted store write left %q", hidden)
			}
			if _, still := dirObjects(t, storeDir); len(still) > 0 {
				t.Errorf("left in the store once stale, after a proxy opened the home: %q", still)
			}
		})
	}
}

// homeProxy is a proxy opened from a home as `hegui proxy serve` opens it.
type homeProxy struct {
	URL   string
	store modstore.Store
}

// openHome opens the proxy home dir with upstream up and serves it.
func openHome(t *testing.T, dir, up string) homeProxy {
	t.Helper()
	p, home, err := modproxy.Open(t.Context(), dir, modproxy.HomeOptions{Upstream: up, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	// A file a crash left without its record is replaced once no record
	// shows up for it; the test need not wait the full 30 s.
	modproxy.SetOrphanWait(p, time.Second)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return homeProxy{URL: srv.URL, store: home.Store.(modstore.Store)}
}

// readUpstream GETs a file from the upstream.
func readUpstream(t *testing.T, target string) []byte {
	t.Helper()
	client := &http.Client{Timeout: waitLimit}
	resp, err := client.Get(target)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s, %v", target, resp.Status, err)
	}
	return data
}

type fileSize struct {
	name string
	size int64
}

// dirFiles lists the files in dir with their sizes.
func dirFiles(t *testing.T, dir string) []fileSize {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var files []fileSize
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			files = append(files, fileSize{e.Name(), fi.Size()})
		}
	}
	return files
}

// totalSize is the size of the files in dir together.
func totalSize(t *testing.T, dir string) int64 {
	var n int64
	for _, f := range dirFiles(t, dir) {
		n += f.size
	}
	return n
}

// dirObjects reads the objects of a directory store by key; hidden names
// (the store's temporary files) are returned apart.
func dirObjects(t *testing.T, root string) (objects map[string][]byte, hidden []string) {
	t.Helper()
	objects = map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if strings.HasPrefix(d.Name(), ".") {
			hidden = append(hidden, key)
			return nil
		}
		objects[key], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return objects, hidden
}

// checkModuleFiles checks the module files among objects: every record
// has its file, and each file with a record is what the record says. It
// returns the module files that have no record, sorted.
func checkModuleFiles(t *testing.T, objects map[string][]byte) (orphans []string) {
	t.Helper()
	for key, data := range objects {
		rest, ok := strings.CutPrefix(key, "modules/")
		if !ok {
			continue
		}
		escPath, name, ok := strings.Cut(rest, "/@v/")
		if !ok {
			t.Errorf("%s: not a module file's key", key)
			continue
		}
		mod, err := module.UnescapePath(escPath)
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		if fileKey, isRec := strings.CutSuffix(key, modstore.RecordSuffix); isRec {
			if objects[fileKey] == nil {
				t.Errorf("%s: a record without its file", key)
			}
			continue
		}
		recData := objects[key+modstore.RecordSuffix]
		if recData == nil {
			orphans = append(orphans, key)
			continue
		}
		version, kind, ok := modstore.ParseVersionName(name)
		if !ok {
			t.Errorf("%s: not a module file's name", key)
			continue
		}
		rec, err := modstore.ParseRecord(recData, mod, version, kind)
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		sum := sha256.Sum256(data)
		if rec.Size != int64(len(data)) || rec.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: %d bytes, sha256 %x; its record says %d bytes, sha256 %s", key, len(data), sum, rec.Size, rec.SHA256)
		}
		if rec.Source != modstore.SourceUpstream || (kind != modstore.Info && rec.VerifiedBy != "sum.golang.org") {
			t.Errorf("%s: record %+v, want a file from the upstream verified by sum.golang.org", key, rec)
		}
	}
	slices.Sort(orphans)
	return orphans
}
