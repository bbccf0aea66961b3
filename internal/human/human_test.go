package human

import (
	"testing"
	"time"
)

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 700 << 20: "700.0 MiB", 4 << 30: "4.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	if got := OneLine("  build failed:\n\tmain.go:3: undefined: x\r\n\n"); got != "build failed: main.go:3: undefined: x" {
		t.Errorf("OneLine = %q", got)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		850*time.Millisecond + 300*time.Microsecond: "850ms",
		2412 * time.Millisecond:                     "2.41s",
		90*time.Second + 400*time.Millisecond:       "1m30s",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
