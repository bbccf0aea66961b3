// Command hello is the binary the image tests put in an image.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("hello from", os.Args[0], "as", os.Getuid())
}
