package kit

import (
	"bytes"
	_ "embed"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
)

// The activation scripts Install writes into a kit's directory.
const (
	ActivateFile     = "activate"
	ActivateFishFile = "activate.fish"
)

var (
	//go:embed activate.sh.tmpl
	activateSh string
	//go:embed activate.fish.tmpl
	activateFish string
)

var scriptFuncs = template.FuncMap{"sh": shellQuote}

// shellQuote quotes s for bash, zsh and fish alike. What is quoted never
// holds a single quote or a backslash (writeActivation refuses such a
// directory, ParseManifest such settings), so plain single quotes do.
func shellQuote(s string) string { return "'" + s + "'" }

// scriptData is what the activation templates fill in.
type scriptData struct {
	Dir, Default, Versions     string
	GOPROXY, GOSUMDB           string
	GONOSUMDB, GONOSUMCHECK    string
	HasBin, VulnDB, BuildCache bool
	VulnDBURL                  string
}

// writeActivation writes the activation scripts for the toolchains
// unpacked in dir: the script files are the last an install writes.
func writeActivation(dir string, m *Manifest, versions []string) error {
	if strings.ContainsAny(dir, "'\\\n\r\x00") {
		return fmt.Errorf("the kit cannot be installed in %q: a quote, a backslash or a line break in the path would break its activation scripts", dir)
	}
	d := scriptData{
		Dir:          dir,
		GOPROXY:      fileURL(filepath.Join(dir, filepath.FromSlash(DownloadDir))),
		GOSUMDB:      m.Env["GOSUMDB"],
		GONOSUMDB:    strings.Trim(strings.Join([]string{m.Env["GONOSUMDB"], m.Env["GOPRIVATE"]}, ","), ","),
		GONOSUMCHECK: m.Env["GONOSUMCHECK"],
		HasBin:       m.Hegui != "",
		VulnDB:       m.VulnDB,
		BuildCache:   m.BuildCache,
		VulnDBURL:    fileURL(filepath.Join(dir, VulnDBDir)),
	}
	if len(versions) > 0 {
		d.Default = versions[len(versions)-1]
		if slices.Contains(versions, m.Default) {
			d.Default = m.Default
		}
		var short []string
		for _, v := range versions {
			short = append(short, strings.TrimPrefix(v, "go"))
		}
		d.Versions = strings.Join(short, ", ")
	}
	for name, text := range map[string]string{ActivateFile: activateSh, ActivateFishFile: activateFish} {
		t, err := template.New(name).Funcs(scriptFuncs).Parse(text)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, d); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// fileURL is the file:// URL of an absolute path, escaped as the go
// command's GOPROXY parser expects.
func fileURL(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}
