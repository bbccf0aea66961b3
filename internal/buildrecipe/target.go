package buildrecipe

import (
	"fmt"
	"regexp"
	"strings"
)

// Target is one platform to build for.
type Target struct {
	OS    string `json:"os"`
	Arch  string `json:"arch"`
	Level string `json:"level,omitempty"` // GOAMD64, GOARM64, GOARM, ... value
}

var (
	platformPattern = regexp.MustCompile(`^[a-z0-9]+$`)
	levelPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9.,]*$`)
)

// ParseTarget reads "linux/amd64" or "linux/amd64/v3".
func ParseTarget(s string) (Target, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || !platformPattern.MatchString(parts[0]) || !platformPattern.MatchString(parts[1]) {
		return Target{}, fmt.Errorf("target %q: want GOOS/GOARCH[/LEVEL]", s)
	}
	t := Target{OS: parts[0], Arch: parts[1]}
	if len(parts) == 3 {
		t.Level = parts[2]
		if t.levelVar() == "" {
			return Target{}, fmt.Errorf("target %q: %s has no level setting", s, t.Arch)
		}
		if !levelPattern.MatchString(t.Level) {
			return Target{}, fmt.Errorf("target %q: level %q", s, t.Level)
		}
	}
	return t, nil
}

// String is "os/arch" or "os/arch/level".
func (t Target) String() string {
	if t.Level != "" {
		return t.OS + "/" + t.Arch + "/" + t.Level
	}
	return t.OS + "/" + t.Arch
}

// Slug is the target as one path element: "linux_amd64", "linux_amd64_v3".
func (t Target) Slug() string { return strings.ReplaceAll(t.String(), "/", "_") }

func (t Target) levelVar() string {
	switch t.Arch {
	case "amd64":
		return "GOAMD64"
	case "arm64":
		return "GOARM64"
	case "arm":
		return "GOARM"
	case "386":
		return "GO386"
	case "mips", "mipsle":
		return "GOMIPS"
	case "mips64", "mips64le":
		return "GOMIPS64"
	case "ppc64", "ppc64le":
		return "GOPPC64"
	case "riscv64":
		return "GORISCV64"
	}
	return ""
}

// Env is the go command environment that selects the target.
func (t Target) Env() []string {
	env := []string{"GOOS=" + t.OS, "GOARCH=" + t.Arch}
	if t.Level != "" {
		env = append(env, t.levelVar()+"="+t.Level)
	}
	return env
}
