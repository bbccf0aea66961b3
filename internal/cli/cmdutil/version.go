package cmdutil

import (
	"runtime"
	"runtime/debug"

	"hegui.dev/hegui/pkcs11key"
)

// VersionInfo is what the binary knows about itself from its build info.
type VersionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	BuildTime string `json:"buildTime,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
	CGO       bool   `json:"cgo"`
	PKCS11    bool   `json:"pkcs11"`
}

// Version reads hegui's own build information: what documents name as
// the tool that wrote them.
func Version() VersionInfo {
	v := VersionInfo{Version: "(unknown)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, PKCS11: pkcs11key.Available}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Version = info.Main.Version
	v.GoVersion = info.GoVersion
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.BuildTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		case "CGO_ENABLED":
			v.CGO = s.Value == "1"
		}
	}
	return v
}
