// Command app links the two fixture modules.
package main

import (
	"example.com/apache"
	"example.com/copied"
)

func main() { println(apache.Name, copied.Name) }
