package config

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Values of hegui.yaml that become file or directory names: project.name
// names the delivery directory (OUTPUT/NAME_VERSION) and the archive,
// builds[].binary (or, without one, the last element of builds[].main)
// names each binary (bin/TARGET/BINARY), builds[].id names the build in the
// documents, and output is the directory deliveries go to. A hegui.yaml
// comes with the module being delivered, so these are checked before
// anything is built: a name is one plain file name, never a path, a hidden
// file or something a shell or another tool would read as an option.
const (
	// MaxNameLength bounds project.name, builds[].id and builds[].binary.
	MaxNameLength = 100
	// MaxOutputLength bounds output.
	MaxOutputLength = 255
)

var (
	// namePattern: letters, digits, '.', '_', '+' and '-', starting with a
	// letter or a digit, so no ".", "..", hidden file or "-option".
	namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	// outputElemPattern is one element of output: the characters of a
	// name, "." and ".." included, but not a leading '-'.
	outputElemPattern = regexp.MustCompile(`^[A-Za-z0-9._+][A-Za-z0-9._+-]*$`)
)

// checkFileName says what is wrong with name as a file name, or returns "".
func checkFileName(name string) string {
	switch {
	case len(name) > MaxNameLength:
		return fmt.Sprintf("is %d characters long: at most %d are allowed", len(name), MaxNameLength)
	case !namePattern.MatchString(name):
		return "is not a plain file name: use letters, digits, '.', '_', '+' and '-', starting with a letter or a digit"
	}
	return ""
}

// checkOutput says what is wrong with dir as the output directory, or
// returns "". An empty dir (the default) is fine.
func checkOutput(dir string) string {
	if len(dir) > MaxOutputLength {
		return fmt.Sprintf("is %d characters long: at most %d are allowed", len(dir), MaxOutputLength)
	}
	for _, elem := range strings.Split(dir, "/") {
		if elem != "" && !outputElemPattern.MatchString(elem) {
			return fmt.Sprintf("has the element %s: use letters, digits, '.', '_', '+' and '-' in each element, not starting with '-'", quoteShort(elem))
		}
	}
	return ""
}

// checkBuildNames checks the names builds[i] (b, at the YAML path p) gives
// its binaries and itself.
func checkBuildNames(b Build, i int, p string, at func(string) string) error {
	if b.Binary != "" {
		if problem := checkFileName(b.Binary); problem != "" {
			return fmt.Errorf("%sbuilds[%d].binary %s %s", at(p+".binary"), i, quoteShort(b.Binary), problem)
		}
	} else if name := defaultBinary(b.Main); name != "" {
		if problem := checkFileName(name); problem != "" {
			return fmt.Errorf("%sbuilds[%d].main %s gives the binary name %s, which %s; set builds[%d].binary",
				at(p+".main"), i, quoteShort(b.Main), quoteShort(name), problem, i)
		}
	}
	if b.ID != "" {
		if problem := checkFileName(b.ID); problem != "" {
			return fmt.Errorf("%sbuilds[%d].id %s %s", at(p+".id"), i, quoteShort(b.ID), problem)
		}
	}
	return nil
}

// defaultBinary is the binary name a build without binary gets from its
// main package (the rule of build.BinaryName), or "" when it is named
// after the module, whose path the go command has already checked.
func defaultBinary(main string) string {
	p := strings.TrimPrefix(path.Clean(main), "./")
	if p == "." {
		return ""
	}
	return path.Base(p)
}

// quoteShort quotes s for a message, cut to its first 40 bytes so that a
// hostile value cannot flood the error.
func quoteShort(s string) string {
	const n = 40
	if len(s) <= n {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:n]) + "..."
}
