package release

import (
	"bytes"
	"context"
	"crypto"
	"debug/buildinfo"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
	"hegui.dev/hegui/internal/deliver/manifest"
	"hegui.dev/hegui/internal/deliver/provenance"
	"hegui.dev/hegui/internal/deliver/sbom"
	"hegui.dev/hegui/internal/format"
	"hegui.dev/hegui/internal/gotool"
	"hegui.dev/hegui/internal/trust"
	"hegui.dev/hegui/keys"
)

// The service the tests run (testdata/svc), built once per test binary
// in three versions: v1 healthy, v2 unhealthy, v3 healthy.
var (
	svcOnce sync.Once
	svcBins map[string][]byte
	svcErr  error
)

func serviceBinaries(t testing.TB) map[string][]byte {
	t.Helper()
	svcOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hegui-release-svc")
		if err != nil {
			svcErr = err
			return
		}
		defer os.RemoveAll(dir)
		svcBins = map[string][]byte{}
		for v, healthy := range map[string]string{"v1.0.0": "true", "v2.0.0": "false", "v3.0.0": "true", "v1.0.0-other": "true"} {
			out := filepath.Join(dir, v)
			version := v
			if v == "v1.0.0-other" {
				version = "v1.0.0 (another build)"
			}
			cmd := exec.Command("go", "build", "-trimpath", "-o", out,
				"-ldflags", "-X 'main.version="+version+"' -X main.healthy="+healthy, "./testdata/svc")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if b, err := cmd.CombinedOutput(); err != nil {
				svcErr = &buildError{err, b}
				return
			}
			if svcBins[v], err = os.ReadFile(out); err != nil {
				svcErr = err
				return
			}
		}
	})
	if svcErr != nil {
		t.Fatalf("building the test service: %v", svcErr)
	}
	return svcBins
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + ": " + string(e.out) }

// trusted is what the test deliveries are signed by (a fixed test key).
func trusted(t testing.TB) trust.Anchors {
	return trust.Anchors{Keys: []crypto.PublicKey{deliverytest.SM2Key(t).Public()}}
}

// makeDelivery writes a signed delivery of project svc at version holding
// bin as this platform's binary svc, made by the stages that write what
// hegui verify reads (SBOMs, provenance, manifest), and returns its directory.
func makeDelivery(t testing.TB, version string, bin []byte) string {
	t.Helper()
	d := deliverytest.New(t)
	d.Name = "svc"
	d.Version.Version, d.Version.Tag = version, version
	deliverytest.WriteFiles(t, d.ModuleDir, map[string]string{"go.mod": "module hegui.dev/hegui\n\ngo 1.26\n"})
	d.Go = gotool.Go{Dir: d.ModuleDir}
	b := deliverytest.AddBinary(t, d, "svc", runtime.GOOS+"/"+runtime.GOARCH, bin)
	info, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	b.Modules = []gotool.Module{{Path: info.Main.Path, Main: true}}
	for _, dep := range info.Deps {
		b.Modules = append(b.Modules, gotool.Module{Path: dep.Path, Version: dep.Version, Sum: dep.Sum})
	}
	deliverytest.WriteFiles(t, d.Dir, map[string]string{"documents/svc.example.yaml": "listen: 127.0.0.1:8080\n"})
	for _, s := range d.Signers {
		pub, err := keys.MarshalPublicKeyPEM(s.Key.Public())
		if err != nil {
			t.Fatal(err)
		}
		deliverytest.WriteFiles(t, d.Dir, map[string]string{format.SignerPublicKeyPath(s.KeyID): string(pub)})
	}
	for _, s := range []delivery.Stage{sbom.Stage{}, provenance.Stage{}, manifest.Stage{}} {
		if err := s.Run(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	return d.Dir
}

// freeAddr is a 127.0.0.1 address no one listens on (just now).
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// open opens a release root with c; progress goes to the test log.
func open(t *testing.T, root string, c Config) *Manager {
	t.Helper()
	m, err := Open(Options{Root: root, Config: c, Progress: testWriter{t}, HookOutput: testWriter{t}, Warn: func(err error) { t.Log("warning:", err) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(time.Now().Format("15:04:05.000000") + " " + string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// mustCurrent checks current names want and that the release is whole.
func mustCurrent(t testing.TB, r Root, want string) {
	t.Helper()
	cur, err := r.Current()
	if err != nil {
		t.Fatal(err)
	}
	if cur != want {
		t.Fatalf("current is %q, want %q", cur, want)
	}
	if want != "" {
		if _, err := r.Check(want); err != nil {
			t.Fatalf("current release: %v", err)
		}
	}
}
