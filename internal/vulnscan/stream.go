package vulnscan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"hegui.dev/hegui/internal/vulndb"
)

// The govulncheck JSON stream (protocol v1.0.0, golang.org/x/vuln
// internal/govulncheck): a sequence of objects, each with one key.
type message struct {
	Config   *streamConfig `json:"config,omitempty"`
	Progress *struct {
		Message string `json:"message"`
	} `json:"progress,omitempty"`
	SBOM    *streamSBOM   `json:"SBOM,omitempty"`
	OSV     *vulndb.Entry `json:"osv,omitempty"`
	Finding *finding      `json:"finding,omitempty"`
}

type streamConfig struct {
	ProtocolVersion string     `json:"protocol_version"`
	ScannerName     string     `json:"scanner_name"`
	ScannerVersion  string     `json:"scanner_version"`
	DB              string     `json:"db"`
	DBLastModified  *time.Time `json:"db_last_modified,omitempty"`
	GoVersion       string     `json:"go_version"`
	ScanLevel       string     `json:"scan_level"`
	ScanMode        string     `json:"scan_mode"`
}

type streamSBOM struct {
	GoVersion string `json:"go_version"`
	Modules   []struct {
		Path    string `json:"path"`
		Version string `json:"version"`
	} `json:"modules"`
	Roots []string `json:"roots"`
}

// finding is one govulncheck finding: a vulnerability at the precision of
// its trace. trace[0] is the vulnerable module, package or symbol; for a
// call, the last frame is the entry point in the scanned code.
type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version,omitempty"`
	Trace        []Frame `json:"trace"`
}

// Frame is one element of a call path.
type Frame struct {
	Module   string    `json:"module"`
	Version  string    `json:"version,omitempty"`
	Package  string    `json:"package,omitempty"`
	Function string    `json:"function,omitempty"`
	Receiver string    `json:"receiver,omitempty"`
	Position *Position `json:"position,omitempty"`
}

// Position is a place in a source file, relative to its module root
// (GOROOT for the standard library).
type Position struct {
	Filename string `json:"filename,omitempty"`
	Offset   int    `json:"offset"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// Symbol is "pkg.Func" or "pkg.Type.Method" for a frame with a function.
func (f Frame) Symbol() string {
	if f.Function == "" {
		return f.Package
	}
	name := f.Function
	if f.Receiver != "" {
		r := f.Receiver
		if len(r) > 0 && r[0] == '*' {
			r = r[1:]
		}
		name = r + "." + name
	}
	if f.Package == "" {
		return name
	}
	return f.Package + "." + name
}

// stream is everything one govulncheck run reported.
type stream struct {
	config   streamConfig
	sbom     *streamSBOM
	entries  map[string]*vulndb.Entry
	findings []*finding
}

// decodeStream reads a govulncheck -format json stream.
func decodeStream(r io.Reader) (*stream, error) {
	s := &stream{entries: map[string]*vulndb.Entry{}}
	dec := json.NewDecoder(r)
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read the scanner's output: %w", err)
		}
		switch {
		case m.Config != nil:
			s.config = *m.Config
		case m.SBOM != nil:
			s.sbom = m.SBOM
		case m.OSV != nil:
			s.entries[m.OSV.ID] = m.OSV
		case m.Finding != nil:
			if len(m.Finding.Trace) == 0 {
				return nil, fmt.Errorf("the scanner reported %s without a trace", m.Finding.OSV)
			}
			s.findings = append(s.findings, m.Finding)
		}
	}
	if s.config.ProtocolVersion == "" {
		return nil, errors.New("the scanner's output has no config message")
	}
	return s, nil
}
