package format

import (
	"slices"
	"strings"
)

// RuntimeCapabilities maps each runtime capability a compliance control
// may name (catalogs' "runtime:", report.json's controls[].runtime) to the
// import path of the hegui package that provides it to services. A control's
// runtime part is implemented in a delivery when one of its binaries links
// that package: the source graph of the build lists it and the binary's
// build information records the module (Binary.RuntimePackages). Linking is
// evidence the capability is in the service, not that it is configured.
//
// The packages stay lean: the standard library and gmsm (translog adds
// four small format libraries; see its TestServiceDependencyBudget).
var RuntimeCapabilities = map[string]string{
	"audit-log":        "hegui.dev/hegui/translog",
	"pii-masking":      "hegui.dev/hegui/mask",
	"sm4-body":         "hegui.dev/hegui/sm4http",
	"crypto-shredding": "hegui.dev/hegui/shred",
}

// HeguiModule is the module path of the runtime packages.
const HeguiModule = "hegui.dev/hegui"

// RuntimeCapabilityNames are the capabilities, sorted.
func RuntimeCapabilityNames() []string {
	var names []string
	for n := range RuntimeCapabilities {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// RuntimePackagesLinked returns the runtime packages among the packages
// linked into a binary (the package itself or one of its subpackages),
// sorted.
func RuntimePackagesLinked(packages []string) []string {
	var out []string
	for _, path := range RuntimeCapabilities {
		for _, p := range packages {
			if p == path || strings.HasPrefix(p, path+"/") {
				out = append(out, path)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}
