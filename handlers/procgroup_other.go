//go:build !unix

package handlers

import "os/exec"

// ownGroup does nothing: without process groups, cancellation kills the
// command only.
func ownGroup(*exec.Cmd) {}

// killGroup kills a started cmd, without its children.
func killGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
