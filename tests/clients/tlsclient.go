// tlsclient connects to ADDR, trusting only the roots in CAFILE, and checks NAME
// with Go's crypto/tls: the TLS stack of the Flow admin console.
// Usage: tlsclient ADDR NAME CAFILE. Exit 0 when the handshake verifies.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: tlsclient ADDR NAME CAFILE")
		os.Exit(2)
	}
	pem, err := os.ReadFile(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		fmt.Fprintln(os.Stderr, "no certificates in", os.Args[3])
		os.Exit(2)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(dialer, "tcp", os.Args[1], &tls.Config{
		RootCAs:    roots,
		ServerName: os.Args[2],
	})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	conn.Close()
}
