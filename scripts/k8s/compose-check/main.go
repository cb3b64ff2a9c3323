// compose-check loads compose files the way `docker compose config` does (compose-go:
// compose-spec JSON schema, interpolation, normalisation, cross-references such as
// depends_on, volumes and build contexts) without a Docker engine, and prints the
// resolved project as JSON for further assertions.
//
//	go run . [-q] compose.yaml
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	quiet := flag.Bool("q", false, "validate only, print nothing on success")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-check [-q] compose.yaml [override.yaml ...]")
		os.Exit(2)
	}
	workingDir, err := filepath.Abs(filepath.Dir(flag.Arg(0)))
	if err != nil {
		fail(err)
	}
	options, err := cli.NewProjectOptions(flag.Args(),
		cli.WithWorkingDirectory(workingDir),
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	// Bind-mounted files and build contexts must exist, as the engine would require.
	for name, service := range project.Services {
		for _, volume := range service.Volumes {
			if volume.Type == "bind" {
				if _, err := os.Stat(volume.Source); err != nil {
					fail(fmt.Errorf("service %s: bind mount source %s: %w", name, volume.Source, err))
				}
			}
		}
		if service.Build != nil {
			dockerfile := service.Build.Dockerfile
			if dockerfile == "" {
				dockerfile = "Dockerfile"
			}
			if !filepath.IsAbs(dockerfile) {
				dockerfile = filepath.Join(service.Build.Context, dockerfile)
			}
			if _, err := os.Stat(dockerfile); err != nil {
				fail(fmt.Errorf("service %s: %w", name, err))
			}
		}
	}
	if *quiet {
		return
	}
	out, err := json.MarshalIndent(project, "", "  ")
	if err != nil {
		fail(err)
	}
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compose-check:", err)
	os.Exit(1)
}
