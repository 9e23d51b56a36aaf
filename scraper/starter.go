package scraper

import _ "embed"

//go:embed starter.toml
var starterProfile []byte

// StarterProfile returns a commented starter profile (TOML) for a user's own portal; it is
// valid as it is, and every selector in it is a placeholder to replace.
func StarterProfile() []byte { return append([]byte(nil), starterProfile...) }
