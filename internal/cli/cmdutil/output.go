package cmdutil

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

// PrintJSON writes v as indented JSON on stdout.
func (e *Env) PrintJSON(v any) error {
	enc := json.NewEncoder(e.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Emit writes a command's result to standard output, or, with -o FILE
// (other than "-"), to FILE as WriteOutput does.
func (e *Env) Emit(output string, data []byte) error {
	if output == "" || output == "-" {
		_, err := e.Stdout.Write(data)
		return err
	}
	return WriteOutput(output, data, 0o644, true)
}

// WriteOutput writes a result file: a regular file atomically, a device or
// a named pipe in place (see atomicfile.CreateOutput). Without force an
// existing file is kept and reported, so a typo in --out cannot destroy a
// key.
func WriteOutput(path string, data []byte, perm os.FileMode, force bool) error {
	return OutputError(path, atomicfile.WriteOutput(path, data, perm, !force))
}

// OutputError words a failure to write the output path: an existing file
// asks for --force, and the path is named once.
func OutputError(path string, err error) error {
	var pe *fs.PathError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s already exists (use --force to replace it)", path)
	case errors.As(err, &pe) && pe.Path == path:
		return err
	}
	return fmt.Errorf("write %s: %w", path, err)
}

// PublicKeyPath derives the public key file name from a private key file
// name: release.key and release.pem give release.pub.
func PublicKeyPath(privatePath string) string {
	ext := filepath.Ext(privatePath)
	if ext == ".key" || ext == ".pem" {
		return strings.TrimSuffix(privatePath, ext) + ".pub"
	}
	return privatePath + ".pub"
}
