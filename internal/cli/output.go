package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"hegui.dev/hegui/internal/atomicfile"
)

// printJSON writes v as indented JSON on stdout.
func (e *Env) printJSON(v any) error {
	enc := json.NewEncoder(e.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// emit writes a command's result to standard output, or, with -o FILE
// (other than "-"), to FILE, replacing it atomically.
func (e *Env) emit(output string, data []byte) error {
	if output == "" || output == "-" {
		_, err := e.Stdout.Write(data)
		return err
	}
	return writeOutput(output, data, 0o644, true)
}

// writeOutput writes a result file atomically. Without force an existing
// file is kept and reported, so a typo in --out cannot destroy a key.
func writeOutput(path string, data []byte, perm os.FileMode, force bool) error {
	var err error
	if force {
		err = atomicfile.WriteFile(path, data, perm)
	} else {
		err = atomicfile.WriteNew(path, data, perm)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists (use --force to replace it)", path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// publicKeyPath derives the public key file name from a private key file
// name: release.key and release.pem give release.pub.
func publicKeyPath(privatePath string) string {
	ext := filepath.Ext(privatePath)
	if ext == ".key" || ext == ".pem" {
		return strings.TrimSuffix(privatePath, ext) + ".pub"
	}
	return privatePath + ".pub"
}
