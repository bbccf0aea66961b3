package release

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// UnitOptions describe the systemd service unit Unit writes.
type UnitOptions struct {
	// Name is the unit's name (NAME.service) and, by default, the binary's
	// name in current/bin/ and the user it runs as.
	Name string
	// Root is the release root; ExecStart runs ROOT/current/bin/BINARY.
	Root string
	// Binary is the binary's name in current/bin/; empty means Name.
	Binary string
	// Args are the binary's arguments.
	Args []string
	// User and Group run the service; empty means Name. The user must
	// exist (useradd --system --no-create-home NAME); it owns nothing in
	// the release root.
	User, Group string
	// Description is the unit's description.
	Description string
	// ReadWritePaths are the only paths the service may write (everything
	// else is read-only: ProtectSystem=strict). StateDirectory,
	// LogsDirectory give it /var/lib/NAME and /var/log/NAME when set.
	ReadWritePaths []string
	StateDirectory bool
	LogsDirectory  bool
	// Capabilities are kept in the bounding and ambient sets
	// (CAP_NET_BIND_SERVICE to listen on a port below 1024); none by default.
	Capabilities []string
	// Environment are KEY=VALUE settings; EnvironmentFile a file of them.
	Environment     []string
	EnvironmentFile string
	// ReloadSignal, when set, is ExecReload's signal (HUP, USR2), for a
	// service that re-executes itself: systemctl reload NAME then switches
	// versions without a restart.
	ReloadSignal string
	// PIDFile is where the service writes its PID, for a reload signal
	// that hegui release sends itself.
	PIDFile string
}

var (
	unitNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	capPattern      = regexp.MustCompile(`^CAP_[A-Z_]+$`)
	envPattern      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
)

// Unit writes a hardened systemd service unit for the service in a release
// root: a dedicated user, no new privileges, a read-only file system but
// for the paths given, private /tmp and devices, no capabilities unless
// given, no writable-and-executable memory, system calls limited to
// @system-service. systemd-analyze security rates what it writes (the tests
// hold it to its score; docs/release.md quotes it).
func Unit(o UnitOptions) ([]byte, error) {
	if !unitNamePattern.MatchString(o.Name) {
		return nil, fmt.Errorf("unit name %q: letters, digits, _ . - only", o.Name)
	}
	if !filepath.IsAbs(o.Root) || strings.ContainsAny(o.Root, " \t\n\"'\\$%;") {
		return nil, fmt.Errorf("--root %q: a unit needs the release root's absolute path, without spaces, quotes, $ or %%", o.Root)
	}
	bin := cmpOr(o.Binary, o.Name)
	if !unitNamePattern.MatchString(bin) {
		return nil, fmt.Errorf("binary name %q: letters, digits, _ . - only", bin)
	}
	user, group := cmpOr(o.User, o.Name), cmpOr(o.Group, cmpOr(o.User, o.Name))
	for _, u := range []string{user, group} {
		if !unitNamePattern.MatchString(u) || u == "root" || u == "0" {
			return nil, fmt.Errorf("user or group %q: give a dedicated, unprivileged account", u)
		}
	}
	caps := append([]string(nil), o.Capabilities...)
	for i, c := range caps {
		c = strings.ToUpper(c)
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if !capPattern.MatchString(c) {
			return nil, fmt.Errorf("capability %q: give a name such as CAP_NET_BIND_SERVICE", o.Capabilities[i])
		}
		caps[i] = c
	}
	sort.Strings(caps)
	for _, p := range append(append([]string(nil), o.ReadWritePaths...), o.EnvironmentFile, o.PIDFile) {
		if p != "" && (!filepath.IsAbs(p) || strings.ContainsAny(p, " \t\n\"'\\")) {
			return nil, fmt.Errorf("path %q: give an absolute path without spaces or quotes", p)
		}
	}
	for _, e := range o.Environment {
		if !envPattern.MatchString(e) || strings.ContainsAny(e, "\n\"\\") {
			return nil, fmt.Errorf("environment %q: give KEY=VALUE without quotes, backslashes or line breaks", e)
		}
	}
	exec := []string{filepath.Join(o.Root, CurrentLink, "bin", bin)}
	for _, a := range o.Args {
		if strings.ContainsAny(a, "\n") {
			return nil, fmt.Errorf("argument %q: no line breaks", a)
		}
		exec = append(exec, quoteArg(a))
	}

	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Written by hegui release unit. systemd-analyze security %s.service rates it.", o.Name)
	w("[Unit]")
	w("Description=%s", cmpOr(strings.ReplaceAll(o.Description, "\n", " "), o.Name+" (installed by hegui release)"))
	w("Documentation=man:systemd.exec(5)")
	w("After=network-online.target")
	w("Wants=network-online.target")
	w("")
	w("[Service]")
	w("Type=simple")
	w("ExecStart=%s", strings.Join(exec, " "))
	if o.ReloadSignal != "" {
		sig, err := ParseSignal(o.ReloadSignal)
		if err != nil {
			return nil, err
		}
		w("ExecReload=/bin/kill -s %s $MAINPID", strings.TrimPrefix(signalName(sig), "SIG"))
	}
	if o.PIDFile != "" {
		w("PIDFile=%s", o.PIDFile)
	}
	w("Restart=on-failure")
	w("RestartSec=1s")
	w("User=%s", user)
	w("Group=%s", group)
	w("WorkingDirectory=%s", filepath.Join(o.Root, CurrentLink))
	for _, e := range o.Environment {
		w("Environment=\"%s\"", strings.ReplaceAll(e, "%", "%%"))
	}
	if o.EnvironmentFile != "" {
		w("EnvironmentFile=%s", o.EnvironmentFile)
	}
	if o.StateDirectory {
		w("StateDirectory=%s", o.Name)
		w("StateDirectoryMode=0700")
	}
	if o.LogsDirectory {
		w("LogsDirectory=%s", o.Name)
		w("LogsDirectoryMode=0700")
	}
	w("UMask=0077")
	w("")
	w("# Privileges")
	w("NoNewPrivileges=yes")
	w("CapabilityBoundingSet=%s", strings.Join(caps, " "))
	w("AmbientCapabilities=%s", strings.Join(caps, " "))
	w("RestrictSUIDSGID=yes")
	w("LockPersonality=yes")
	w("RemoveIPC=yes")
	if len(caps) == 0 {
		w("PrivateUsers=yes")
	}
	w("")
	w("# File system: read-only but for the paths below")
	w("ProtectSystem=strict")
	w("ProtectHome=yes")
	w("PrivateTmp=yes")
	w("PrivateDevices=yes")
	w("PrivateMounts=yes")
	w("DevicePolicy=closed")
	w("ProtectProc=invisible")
	w("ProcSubset=pid")
	for _, p := range o.ReadWritePaths {
		w("ReadWritePaths=%s", p)
	}
	w("")
	w("# Kernel")
	w("ProtectKernelTunables=yes")
	w("ProtectKernelModules=yes")
	w("ProtectKernelLogs=yes")
	w("ProtectControlGroups=yes")
	w("ProtectClock=yes")
	w("ProtectHostname=yes")
	w("RestrictNamespaces=yes")
	w("RestrictRealtime=yes")
	w("MemoryDenyWriteExecute=yes")
	w("RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX")
	w("")
	w("# System calls")
	w("SystemCallArchitectures=native")
	w("SystemCallFilter=@system-service")
	w("SystemCallFilter=~@privileged")
	w("SystemCallErrorNumber=EPERM")
	w("")
	w("[Install]")
	w("WantedBy=multi-user.target")
	return b.Bytes(), nil
}

// quoteArg quotes a command-line word for a unit file when it needs it.
func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"'\\$%;") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `$$`, `%`, `%%`)
	return `"` + r.Replace(s) + `"`
}
