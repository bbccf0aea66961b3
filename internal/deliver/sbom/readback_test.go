package sbom

import (
	"runtime/debug"
	"testing"
	"time"

	"hegui.dev/hegui/internal/format"
)

func sampleInput() Input {
	return Input{
		File: "bin/linux_amd64/app", SHA256: "aa", SM3: "bb", Target: "linux/amd64", Version: "v1.0.0",
		Info:    &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "example.com/app"}, Deps: []*debug.Module{{Path: "golang.org/x/text", Version: "v0.31.0"}}},
		Created: time.Unix(0, 0), Tool: "hegui-test",
	}
}

// TestReadBackSBOMs checks that the verifier reads what this package writes.
func TestReadBackSBOMs(t *testing.T) {
	spdxDoc, _ := SPDX(sampleInput())
	cdxDoc, _ := CycloneDX(sampleInput())
	for name, read := range map[string]func([]byte) (format.SBOMContent, error){"spdx": format.ReadSPDX, "cyclonedx": format.ReadCycloneDX} {
		doc := spdxDoc
		if name == "cyclonedx" {
			doc = cdxDoc
		}
		c, err := read(doc)
		if err != nil {
			t.Fatal(err)
		}
		if c.File != "bin/linux_amd64/app" || c.SHA256 != "aa" || c.SM3 != "bb" || len(c.Modules) != 1 || c.Modules["golang.org/x/text"] != "v0.31.0" {
			t.Errorf("%s: %+v", name, c)
		}
	}
}

// FuzzReadSBOM: SBOMs in a delivery are read before anything vouches for
// them.
func FuzzReadSBOM(f *testing.F) {
	spdxDoc, _ := SPDX(sampleInput())
	cdxDoc, _ := CycloneDX(sampleInput())
	f.Add(spdxDoc)
	f.Add(cdxDoc)
	f.Fuzz(func(t *testing.T, data []byte) {
		format.ReadSPDX(data)
		format.ReadCycloneDX(data)
	})
}
