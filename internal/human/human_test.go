package human

import "testing"

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
