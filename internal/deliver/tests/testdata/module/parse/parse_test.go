package parse

import (
	"fmt"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add("1")
	f.Add("x")
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := Parse(s); err == nil && fmt.Sprint(n) == "" {
			t.Error("a number printed as nothing")
		}
	})
}

func ExampleParse() {
	n, _ := Parse("3")
	fmt.Println(n)
	// Output: 3
}
