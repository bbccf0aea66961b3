package shred_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"

	"github.com/emmansun/gmsm/sm2"

	"hegui.dev/hegui/shred"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "keys")
	defer os.RemoveAll(dir)
	master, _ := sm2.GenerateKey(rand.Reader) // in a service: the master key from its key store or token
	s := &shred.Shredder{
		Store:      shred.FileStore{Dir: dir},
		Wrapper:    shred.SM2Wrapper{Public: &master.PublicKey, Private: master},
		SubjectKey: []byte("16 bytes or more, secret"), // in a service: from its key store
	}
	record, _ := s.Encrypt(ctx, "user:42", []byte(`{"name":"张三","phone":"13812345678"}`))
	plain, _ := s.Decrypt(ctx, "user:42", record)
	fmt.Println(string(plain))

	// The right to erasure: destroy the key, and every copy of the record
	// (in the database, its replicas, its backups) is unreadable.
	if err := s.Forget(ctx, "user:42"); err != nil {
		panic(err)
	}
	_, err := s.Decrypt(ctx, "user:42", record)
	fmt.Println(errors.Is(err, shred.ErrDestroyed))
	// Output:
	// {"name":"张三","phone":"13812345678"}
	// true
}
