package main

import (
	"fmt"
	"sync"

	"comet/vtp"
)

// serveSpool is --receive=dir:PATH, the spool extension: authors' events
// dropped as files into the directory path are submitted to the broker,
// by a goroutine counted in serving until the broker shuts down.
func serveSpool(broker *vtp.Broker, path string, serving *sync.WaitGroup) error {
	sp, err := broker.OpenSpool(path)
	if err != nil {
		return fmt.Errorf("--receive: %w", err)
	}
	serving.Go(func() { sp.Serve() })
	return nil
}
