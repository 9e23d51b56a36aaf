//go:build race

package scheduler

// raceDetector is true in a -race build, whose tests run about ten times slower: the heavy
// property tests then take fewer draws by default.
const raceDetector = true
