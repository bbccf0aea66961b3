package main

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"golang.org/x/text/language"
)

func main() {
	cmd := &cobra.Command{Use: "app", Run: func(*cobra.Command, []string) {
		fmt.Println(uuid.NewSHA1(uuid.NameSpaceURL, []byte("hegui")), language.Chinese)
	}}
	cmd.Execute()
}
