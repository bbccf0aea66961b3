// Package human formats quantities and messages for people.
package human

import (
	"fmt"
	"strings"
	"time"
)

// Bytes formats a size in binary units: "512 B", "12.3 KiB", "700.0 MiB",
// "4.0 GiB".
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// OneLine folds a message onto one line, its runs of white space (line
// breaks included) made single spaces: every error hegui prints is one line.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Duration formats a duration to the millisecond below a minute: "850ms",
// "2.41s", "1m30s".
func Duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
