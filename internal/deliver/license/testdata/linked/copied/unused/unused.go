// Package unused is not linked, so its licence does not apply.
package unused

// Name names the package.
const Name = "unused"
