package cli

// The help texts of the commands: what `worktray help CMD`, `worktray CMD --help` and the shell
// completion show. The one-line summary of a command is in the commands table (cli.go); the
// flags come from the command's own flag set (see describe in root.go).

// helpText is the help of one command beyond its summary.
type helpText struct {
	use  string       // the argument synopsis after the command's name, e.g. "[show|set] [flags]"
	long string       // what it does, in sentences; exit codes where they are the command's own
	subs []subcommand // its subcommands, if any
}

// subcommand is a word after a command that selects what it does (`schedule set`).
type subcommand struct {
	name, summary, long string
}

// ExitCodesHelp documents the exit codes every command shares; `worktray help` prints it.
const ExitCodesHelp = `Exit codes:
  0   success (for status: nothing needs attention)
  1   any other failure
  2   a bad command line (unknown command, flag or argument)
  3   the command needs the owner and none runs
  4   a settings value failed validation; nothing changed
  5   conflict: nothing to cancel, or the settings changed since they were read
  6   diagnose found a failing check
  7   the worktray owner is running but not responding
  8   the store is damaged, empty or unreadable (the message names the newest backup
      and the restore command), or could not be written (disk full)
  Status (worktray status):
  20  the portal is not set up
  21  scheduled scrapes are failing
  22  a slot is overdue (due, not started yet)
  23  slots were missed
  24  the scheduler is stuck and cannot arm its next slot
  25  the owner is not running (the state shown is the stored one)
  26  the store could not be written
  Scrape outcome (worktray scrape):
  10  the portal refused the sign-in     11  timeout
  12  the portal failed                   13  the portal's layout changed
  14  the browser failed                  15  canceled
  16  the owner stopped during the scrape 17  the store could not be written
  18  the configuration cannot be used (no portal set up, a bad profile)
  130 detached (Ctrl-C while following)`

var helps = map[string]helpText{
	"status": {use: "[flags]", long: `Shows the next run ("in 12 min"), the last run and its outcome, and anything that needs
attention: not set up, failing, overdue, missed, stuck, held alerts. With no owner running it
shows the stored state and says so. The exit code says whether anything needs attention
(0 nothing; 20-26, see "worktray help"), like systemctl is-active.`},
	"scrape": {use: "[flags]", long: `Starts a scrape now (or follows the one already running) and shows its progress until it
ends. The exit code is the outcome: 0 succeeded, 10-18 the failure class (see "worktray help").
Ctrl-C stops following; the scrape goes on.`},
	"cancel": {use: "[flags]", long: "Cancels the running scrape; it is recorded as canceled. Exit code 5 when none runs."},
	"pause":  {use: "[flags]", long: "Pauses scheduled runs: while paused, slots are neither run nor owed."},
	"resume": {use: "[flags]", long: "Resumes scheduled runs from the next slot; an overdue slot still within its grace runs."},
	"history": {use: "[flags]", long: `Lists recent runs, newest first: when, trigger, outcome, orders found/new/changed/removed,
duration, and for failures the error and the screenshot and HTML files kept.`},
	"orders": {use: "[show NUMBER] [flags]", long: `Lists the stored work orders (soonest visit first; --sort COLUMN for another order, -COLUMN
reversed), as a table, --json, --csv (every field and the profile's custom fields, the same
columns as the work orders window's export) or --ics (the visits as iCalendar). --output FILE
writes the CSV or calendar to FILE and says how many rows it wrote. An order stays marked new or
changed until it has been seen (opened here or in the window, or "Mark all seen"); --new and
--changed list only those. "orders show NUMBER" prints one order in full with its change
history, and marks it seen.`,
		subs: []subcommand{{"show", "print one order in full, with its change history", `"worktray orders show NUMBER" prints the order with work-order number NUMBER (any case):
every field including the profile's custom fields, the instructions with their line breaks,
the address, the portal link, first seen, last changed and its change history, newest first.
The order then counts as seen: its new or changed mark is cleared (this needs worktray running).`}}},
	"backup": {use: "FILE | list | restore FILE", long: `"backup FILE" writes a consistent copy of the store to FILE while worktray runs.
"backup list" lists the automatic backups (taken after the first successful scrape of each day,
the last 7 kept, in "backups" beside the store), newest first, with size, time and order count.
"backup restore FILE" (a path, or a name from the list) checks the backup, keeps the replaced
store aside as worktray-replaced-<time>.db and puts the backup in its place; it is refused while
the owner runs. Exit code 8 when the store or the backup is damaged or cannot be written.`,
		subs: []subcommand{{"list", "list the automatic backups, newest first", ""},
			{"restore", "restore the store from a backup (the owner must be stopped)", ""}}},
	"diagnose": {use: "[--fix] [flags]", long: `Checks everything worktray depends on: the owner, the scheduler, the store and its backups,
Chromium, the portal profile and account, the alert keys. Exit code 6 when a check fails.
--fix repairs what it safely can (claims an overdue slot, for one).`},
	"schedule": {use: "[show|set] [flags]", long: `Shows or sets the schedule: the minute of the hour, every N hours, active hours, weekdays,
time zone, misfire grace, catch-up and retries. A change applies at once; the next runs are
previewed. Invalid values are refused with the field named (exit code 4).`,
		subs: []subcommand{{"show", "show the schedule and the next runs", ""},
			{"set", "change the schedule (only the flags given)", ""}}},
	"portal": {use: "show | set | test [flags]", long: `Shows or sets the portal worktray signs in to: its address, the profile that describes it,
and the account. The password is asked at a prompt (or read from stdin), never an argument.`,
		subs: []subcommand{{"show", "show the portal settings", ""},
			{"set", "set the address, profile and account", ""},
			{"test", "sign in once with the stored settings", ""}}},
	"alerts": {use: "show | set | test [flags]", long: `Shows or sets the alerts: Pushover keys (asked at a prompt or read from stdin), the failure
threshold, re-notify interval, quiet hours and which events alert.`,
		subs: []subcommand{{"show", "show the alert settings and the outbox", ""},
			{"set", "change the alert settings", ""},
			{"test", "send a test alert", ""}}},
	"retention": {use: "[show|set] [flags]", long: "Shows or sets how many runs the history keeps (default 10,000).",
		subs: []subcommand{{"show", "show the retention", ""}, {"set", "set the retention: --keep N", ""}}},
	"profile": {use: "test [FILE] | check FILE | init [FILE] [flags]", long: `Helps write a portal profile (docs/profiles.md). "profile test" signs in with the configured
account, reads the first list page and a few detail pages with the configured profile (or
FILE), stores nothing, and prints per field how many rows matched, sample values and what
matched nothing; --screenshot FILE saves the list page with the matched rows and fields
outlined. It exits 0 when every required field matched, 13 when one did not, and with the
scrape's codes when it could not sign in or reach the list. "profile check FILE" validates a
file offline (exit 4 with each problem named). "profile init [FILE]" writes a commented
starter profile (default portal-profile.toml; never over an existing file without --force).`,
		subs: []subcommand{{"test", "sign in and read the first pages with a profile, storing nothing", ""},
			{"check", "validate a profile file offline", ""},
			{"init", "write a commented starter profile", ""}}},
}
