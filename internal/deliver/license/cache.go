package license

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/licensecheck"

	"hegui.dev/hegui/internal/atomicfile"
)

// classifierVersion keys the cache: a new licensecheck may classify
// differently, so its results go elsewhere.
const classifierVersion = "licensecheck-v0.3.1"

// The first licensecheck.Scan in a process compiles the licence patterns,
// which takes about a second of CPU; the texts themselves take
// milliseconds. The common texts need no licensecheck at all
// (knowntexts.go). For the others, the results are cached on disk by the
// SHA-256 of the text: licence files in the module cache never change
// (go.sum pins them), so later runs that meet only texts seen before never
// pay for the compilation. The cache and the known-text table are both
// licensecheck v0.3.1's verdicts; a new licensecheck needs a new
// classifierVersion and a new table.

var cacheDir = sync.OnceValue(func() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "hegui", classifierVersion)
})

// classify returns licensecheck's coverage of a licence text: known texts
// without licensecheck (knowntexts.go), others from the cache when this
// exact text was classified before. The coverage of a known text has no
// match offsets.
func classify(text []byte) licensecheck.Coverage {
	if cov, ok := classifyKnown(text); ok {
		return cov
	}
	sum := sha256.Sum256(text)
	var path string
	if dir := cacheDir(); dir != "" {
		path = filepath.Join(dir, hex.EncodeToString(sum[:])+".json")
		if data, err := os.ReadFile(path); err == nil {
			var cov licensecheck.Coverage
			if json.Unmarshal(data, &cov) == nil {
				return cov
			}
		}
	}
	cov := licensecheck.Scan(text)
	if path != "" {
		if data, err := json.Marshal(cov); err == nil && os.MkdirAll(filepath.Dir(path), 0o755) == nil {
			atomicfile.WriteFile(path, data, 0o644) // a cache: failing to write it costs time only
		}
	}
	return cov
}
