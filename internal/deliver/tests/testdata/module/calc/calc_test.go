package calc

import "testing"

func TestAdd(t *testing.T) {
	if Add(1, 2) != 3 {
		t.Fatal("1 + 2 is not 3")
	}
}

func TestNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the network")
	}
}

func TestSub(t *testing.T) {
	for _, c := range []struct{ a, b, want int }{{3, 1, 2}, {1, 1, 0}} {
		t.Run("", func(t *testing.T) {
			if got := Sub(c.a, c.b); got != c.want {
				t.Errorf("Sub(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
			}
		})
	}
}
