//! The demo's narration. The demo spends minutes of real time waiting (the SDK backing off
//! from the emulator's rate limit, the state machines polling), so it says what happens when
//! it happens, and what it is waiting for while it waits, rather than printing everything at
//! the end.
//!
//! Two layers, so that what is printed can be tested byte for byte:
//! - [`Narration`]: the output alone, over any writer, synchronous. On a terminal
//!   ([`Style::Live`]) what it waits for is one status line rewritten in place (`\r`, clear
//!   line; drawn with wrapping off, so it never spills onto a second line), cleared before
//!   each timeline line and at the end; in a pipe ([`Style::Lines`])
//!   it is a plain `waiting: …` line, printed only when what it waits for changes.
//! - [`Narrator`]: the cloneable handle the demo's drive code holds (silent by default). It
//!   takes the timeline lines as they happen and what the demo is doing; [`Narrator::watch`]
//!   polls every 250 ms (real time) the running execution's current task state and the
//!   emulator's throttled calls per `Service.Operation`, to say what the demo is waiting for.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::Serialize;
use stepfunctions_runner::{Execution, HistoryEventType};
use workspaces_core_emulator::Control;

/// One line of the timeline, at the sandbox's (virtual) time.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub what: String,
}

impl Event {
    /// The line as the demo prints it: `  MM-DD HH:MM:SS  what`, newline included.
    pub fn rendered(&self) -> String {
        format!("  {}  {}\n", self.at.format("%m-%d %H:%M:%S"), self.what)
    }
}

/// How the narration shows what it is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A terminal: one status line, rewritten in place.
    Live,
    /// A pipe or a file: plain lines, one per change, no control characters.
    Lines,
}

/// A throttled operation: the emulator answered it with ThrottlingException, so the SDK is
/// backing off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttled {
    /// `Service.Operation`.
    pub operation: String,
    /// Its throttled calls so far (all accounts).
    pub count: u64,
}

/// What the demo is waiting for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// What it is doing: an execution's task state, a lifecycle command, an hour of the day.
    /// A pipe gets a line when this (or the throttled operation) changes.
    pub doing: String,
    /// Finer, shown on a terminal only: a poll's round, the minute of the day.
    pub detail: Option<String>,
    /// The operation most recently throttled while doing it.
    pub throttled: Option<Throttled>,
    /// Real seconds spent doing it (terminal only).
    pub seconds: u64,
}

impl Waiting {
    /// The plain line's text: only what changes rarely.
    fn plain(&self) -> String {
        match &self.throttled {
            Some(t) => format!(
                "waiting: {}; {} throttled, the SDK is backing off",
                self.doing, t.operation
            ),
            None => format!("waiting: {}", self.doing),
        }
    }

    /// The status line's text: everything.
    fn live(&self) -> String {
        let mut text = format!("waiting {}s: {}", self.seconds, self.doing);
        if let Some(d) = &self.detail {
            text.push_str(&format!(" ({d})"));
        }
        if let Some(t) = &self.throttled {
            text.push_str(&format!(
                "; {} throttled {}x, the SDK is backing off",
                t.operation, t.count
            ));
        }
        text
    }
}

/// Clears the terminal's current line: carriage return, erase line.
const CLEAR_LINE: &str = "\r\x1b[2K";
/// Around the status line: automatic wrapping off, then on again, so that a line wider than
/// the terminal is cut at its edge instead of wrapping (a wrapped line could not be
/// rewritten in place).
const NO_WRAP: &str = "\x1b[?7l";
const WRAP: &str = "\x1b[?7h";

/// The narration's output over a writer (see the module docs). Write errors are ignored:
/// the narration is a courtesy, the report is the result.
pub struct Narration<W: Write> {
    out: W,
    style: Style,
    /// Live: the status line on screen, redrawn after each timeline line.
    status: Option<String>,
    /// Lines: what the last waiting line was about, and the lines printed about it.
    doing: Option<String>,
    printed: Vec<String>,
    /// Live: the status line is cut to this many characters when the terminal's width is
    /// known (`COLUMNS`), for terminals that ignore [`NO_WRAP`].
    width: Option<usize>,
    /// After [`Narration::finish`], what it waits for is no longer shown.
    finished: bool,
}

impl<W: Write> Narration<W> {
    pub fn new(out: W, style: Style) -> Self {
        let columns = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse::<usize>().ok());
        Self {
            out,
            style,
            status: None,
            doing: None,
            printed: Vec::new(),
            width: columns.map(|c| c.saturating_sub(1).max(20)),
            finished: false,
        }
    }

    /// A timeline line, printed now.
    pub fn line(&mut self, event: &Event) {
        self.clear_status();
        let _ = self.out.write_all(event.rendered().as_bytes());
        self.draw_status();
        let _ = self.out.flush();
    }

    /// What it waits for now (`None`: nothing).
    pub fn waiting(&mut self, waiting: Option<&Waiting>) {
        if self.finished {
            return;
        }
        match self.style {
            Style::Live => {
                let text = waiting.map(|w| {
                    let text = w.live();
                    match self.width {
                        Some(width) => text.chars().take(width).collect(),
                        None => text,
                    }
                });
                if text != self.status {
                    self.clear_status();
                    self.status = text;
                    self.draw_status();
                    let _ = self.out.flush();
                }
            }
            Style::Lines => {
                let Some(w) = waiting else { return };
                if self.doing.as_deref() != Some(w.doing.as_str()) {
                    self.doing = Some(w.doing.clone());
                    self.printed.clear();
                }
                let text = w.plain();
                if !self.printed.contains(&text) {
                    let _ = writeln!(self.out, "{:18}{text}", "");
                    let _ = self.out.flush();
                    self.printed.push(text);
                }
            }
        }
    }

    /// The end: the status line cleared, nothing more about waiting.
    pub fn finish(&mut self) {
        self.clear_status();
        self.status = None;
        self.finished = true;
        let _ = self.out.flush();
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn clear_status(&mut self) {
        if self.status.is_some() {
            let _ = self.out.write_all(CLEAR_LINE.as_bytes());
        }
    }

    fn draw_status(&mut self) {
        if let Some(s) = &self.status {
            let _ = write!(self.out, "{NO_WRAP}{s}{WRAP}");
        }
    }
}

/// What the demo is doing, as its drive code says.
#[derive(Clone, Default)]
enum Activity {
    #[default]
    Idle,
    Doing {
        doing: String,
        detail: Option<String>,
    },
    /// A state machine's execution: its current task state says what it waits for.
    Running { label: String, execution: Execution },
}

struct Shared {
    narration: Mutex<Narration<Box<dyn Write + Send>>>,
    activity: Mutex<Activity>,
}

/// The handle the demo's drive code holds: cheap to clone, silent by default.
#[derive(Clone, Default)]
pub struct Narrator {
    shared: Option<Arc<Shared>>,
}

impl Narrator {
    /// A narrator printing to `out` in `style`.
    pub fn new(out: Box<dyn Write + Send>, style: Style) -> Self {
        Self {
            shared: Some(Arc::new(Shared {
                narration: Mutex::new(Narration::new(out, style)),
                activity: Mutex::new(Activity::Idle),
            })),
        }
    }

    /// A timeline line, printed now.
    pub fn line(&self, event: &Event) {
        if let Some(s) = &self.shared {
            s.narration.lock().line(event);
        }
    }

    /// The demo is doing `doing` (`detail`: finer, for a terminal).
    pub fn doing(&self, doing: impl Into<String>, detail: Option<String>) {
        self.set(Activity::Doing {
            doing: doing.into(),
            detail,
        });
    }

    /// The demo waits for `execution` (called `label`).
    pub fn running(&self, label: &str, execution: &Execution) {
        self.set(Activity::Running {
            label: label.into(),
            execution: execution.clone(),
        });
    }

    /// The demo is between things (nothing to wait for).
    pub fn idle(&self) {
        self.set(Activity::Idle);
    }

    /// Clears the status line; nothing more about waiting is shown.
    pub fn finish(&self) {
        if let Some(s) = &self.shared {
            s.narration.lock().finish();
        }
    }

    /// Starts watching what the demo waits for (every 250 ms, real time) on the emulator
    /// behind `control`, until the returned guard is dropped.
    pub fn watch(&self, control: &Control) -> WatchGuard {
        let task = self.shared.clone().map(|shared| {
            let control = control.clone();
            tokio::spawn(async move {
                let mut watcher = Watcher::default();
                let mut ticks = tokio::time::interval(Duration::from_millis(250));
                loop {
                    ticks.tick().await;
                    let activity = shared.activity.lock().clone();
                    let waiting = watcher.observe(
                        describe(&activity),
                        throttled_calls(&control),
                        Instant::now(),
                    );
                    shared.narration.lock().waiting(waiting.as_ref());
                }
            })
        });
        WatchGuard { task }
    }

    fn set(&self, activity: Activity) {
        if let Some(s) = &self.shared {
            *s.activity.lock() = activity;
        }
    }
}

/// Stops the watching task when dropped.
pub struct WatchGuard {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

/// What an activity is (`doing`, `detail`); `None` when idle.
fn describe(activity: &Activity) -> Option<(String, Option<String>)> {
    match activity {
        Activity::Idle => None,
        Activity::Doing { doing, detail } => Some((doing.clone(), detail.clone())),
        Activity::Running { label, execution } => Some(describe_execution(label, execution)),
    }
}

/// An execution's current task state (the last one scheduled: Wait, Choice and Pass states
/// take no real time), how many times it ran (a polling loop's round), and whether it
/// holds a task token (a pause for the customer).
fn describe_execution(label: &str, execution: &Execution) -> (String, Option<String>) {
    let history = execution.history();
    let Some(state) = history
        .iter()
        .rev()
        .find(|e| e.event_type == HistoryEventType::TaskScheduled)
        .and_then(|e| e.state.clone())
    else {
        return (label.to_owned(), None);
    };
    let of_state = || {
        history
            .iter()
            .filter(|e| e.state.as_deref() == Some(&state))
    };
    let rounds = of_state()
        .filter(|e| e.event_type == HistoryEventType::TaskScheduled)
        .count();
    let paused = history
        .iter()
        .rev()
        .find(|e| e.state.as_deref() == Some(&state))
        .is_some_and(|e| e.event_type == HistoryEventType::TaskTokenIssued);
    let detail = if paused {
        Some("paused for the customer".to_owned())
    } else if rounds > 1 {
        Some(format!("round {rounds}"))
    } else {
        None
    };
    (format!("{label}: {state}"), detail)
}

/// Throttled calls per `Service.Operation`, all accounts together.
fn throttled_calls(control: &Control) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for ops in control.counters().values() {
        for (op, count) in ops.iter().filter(|(_, c)| c.throttled > 0) {
            *out.entry(op.clone()).or_insert(0) += count.throttled;
        }
    }
    out
}

/// Turns what the demo is doing and the throttled-call counts, tick by tick, into what it
/// is waiting for. The throttled operation sticks to what the demo is doing until another
/// one is throttled: the SDK's back-off leaves ticks with no new throttled call, and a
/// status that came and went with them would flicker (and repeat in a pipe). Calls
/// throttled in the tick the demo moved on count for what it does next: the previous thing
/// ended on a call that succeeded, the next one's first calls are the likely throttled ones
/// (a single throttled call can cost the SDK's adaptive back-off 20 seconds).
#[derive(Default)]
struct Watcher {
    throttled: BTreeMap<String, u64>,
    doing: Option<String>,
    since: Option<Instant>,
    last_throttled: Option<Throttled>,
}

impl Watcher {
    fn observe(
        &mut self,
        activity: Option<(String, Option<String>)>,
        throttled: BTreeMap<String, u64>,
        now: Instant,
    ) -> Option<Waiting> {
        let grown = throttled
            .iter()
            .filter_map(|(op, &n)| {
                let before = self.throttled.get(op).copied().unwrap_or(0);
                (n > before).then(|| (n - before, op.clone(), n))
            })
            .max_by_key(|(growth, ..)| *growth);
        let Some((doing, detail)) = activity else {
            self.throttled = throttled;
            self.doing = None;
            return None;
        };
        if self.doing.as_deref() != Some(doing.as_str()) {
            self.doing = Some(doing.clone());
            self.since = Some(now);
            self.last_throttled = None;
        }
        match grown {
            Some((_, operation, count)) => {
                self.last_throttled = Some(Throttled { operation, count });
            }
            None => {
                if let Some(t) = &mut self.last_throttled {
                    t.count = throttled.get(&t.operation).copied().unwrap_or(t.count);
                }
            }
        }
        self.throttled = throttled;
        Some(Waiting {
            doing,
            detail,
            throttled: self.last_throttled.clone(),
            seconds: self.since.map_or(0, |s| now.duration_since(s).as_secs()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 10, minute, 5).unwrap()
    }

    fn waiting(doing: &str, detail: Option<&str>, throttled: Option<(&str, u64)>) -> Waiting {
        Waiting {
            doing: doing.into(),
            detail: detail.map(str::to_owned),
            throttled: throttled.map(|(operation, count)| Throttled {
                operation: operation.into(),
                count,
            }),
            seconds: 3,
        }
    }

    fn event(minute: u32, what: &str) -> Event {
        Event {
            at: at(minute),
            what: what.into(),
        }
    }

    #[test]
    fn in_a_pipe_each_event_is_a_line_and_each_change_of_wait_one_line() {
        let mut n = Narration::new(Vec::new(), Style::Lines);
        n.waiting(Some(&waiting("onboarding: ValidateAccess", None, None)));
        // The same wait again, a finer detail, more seconds: nothing new.
        n.waiting(Some(&waiting("onboarding: ValidateAccess", None, None)));
        n.waiting(Some(&waiting(
            "onboarding: ValidateAccess",
            Some("round 2"),
            None,
        )));
        n.line(&event(1, "step 1 VALIDATE_ACCESS  completed"));
        n.waiting(None);
        n.waiting(Some(&waiting(
            "onboarding: PollImage",
            Some("round 2"),
            None,
        )));
        let throttled = Some(("WorkSpaces.DescribeWorkspaceImages", 3));
        n.waiting(Some(&waiting("onboarding: PollImage", None, throttled)));
        // A growing count of the same operation is no change in a pipe.
        let throttled = Some(("WorkSpaces.DescribeWorkspaceImages", 9));
        n.waiting(Some(&waiting("onboarding: PollImage", None, throttled)));
        // Back to an operation already named for this wait: not repeated.
        n.waiting(Some(&waiting("onboarding: PollImage", None, None)));
        n.line(&event(
            2,
            "step 6 IMPORT_IMAGE  completed\n                          and a second line",
        ));
        n.finish();
        n.waiting(Some(&waiting("after the end", None, None)));
        let out = String::from_utf8(n.into_inner()).unwrap();
        assert_eq!(
            out,
            "                  waiting: onboarding: ValidateAccess\n\
             \x20 11-28 10:01:05  step 1 VALIDATE_ACCESS  completed\n\
             \x20                 waiting: onboarding: PollImage\n\
             \x20                 waiting: onboarding: PollImage; WorkSpaces.DescribeWorkspaceImages throttled, the SDK is backing off\n\
             \x20 11-28 10:02:05  step 6 IMPORT_IMAGE  completed\n\
             \x20                         and a second line\n"
        );
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
    }

    #[test]
    fn on_a_terminal_the_status_line_is_rewritten_and_cleared() {
        let mut n = Narration::new(Vec::new(), Style::Live);
        n.width = None;
        n.waiting(Some(&waiting(
            "onboarding: PollImage",
            Some("round 2"),
            None,
        )));
        // Unchanged: nothing written.
        n.waiting(Some(&waiting(
            "onboarding: PollImage",
            Some("round 2"),
            None,
        )));
        n.line(&event(1, "step 6 IMPORT_IMAGE  completed"));
        n.waiting(Some(&waiting(
            "the simulated day, hour 1 of 9",
            None,
            Some(("WorkSpaces.DescribeWorkspaces", 4)),
        )));
        n.waiting(None);
        n.line(&event(2, "power stop"));
        n.finish();
        let out = String::from_utf8(n.into_inner()).unwrap();
        assert_eq!(
            out,
            "\x1b[?7lwaiting 3s: onboarding: PollImage (round 2)\x1b[?7h\
             \r\x1b[2K  11-28 10:01:05  step 6 IMPORT_IMAGE  completed\n\
             \x1b[?7lwaiting 3s: onboarding: PollImage (round 2)\x1b[?7h\
             \r\x1b[2K\x1b[?7lwaiting 3s: the simulated day, hour 1 of 9; WorkSpaces.DescribeWorkspaces throttled 4x, the SDK is backing off\x1b[?7h\
             \r\x1b[2K  11-28 10:02:05  power stop\n"
        );
        // A known width (`COLUMNS`) cuts the line too.
        let mut n = Narration::new(Vec::new(), Style::Live);
        n.width = Some(20);
        n.waiting(Some(&waiting("onboarding: PollWorkspaces", None, None)));
        assert_eq!(
            String::from_utf8(n.into_inner()).unwrap(),
            "\x1b[?7lwaiting 3s: onboardi\x1b[?7h"
        );
    }

    #[test]
    fn a_throttled_operation_sticks_to_what_the_demo_does() {
        let mut w = Watcher::default();
        let t0 = Instant::now();
        let doing = |s: &str| Some((s.to_owned(), None));
        let calls = |n: u64| BTreeMap::from([("WorkSpaces.DescribeWorkspaces".to_owned(), n)]);
        let first = w.observe(doing("a"), calls(0), t0).unwrap();
        assert_eq!(first.throttled, None);
        let backing_off = w
            .observe(doing("a"), calls(2), t0 + Duration::from_secs(2))
            .unwrap();
        assert_eq!(
            backing_off.throttled,
            Some(Throttled {
                operation: "WorkSpaces.DescribeWorkspaces".into(),
                count: 2
            })
        );
        assert_eq!(backing_off.seconds, 2);
        // No new throttled call this tick: still backing off from the same operation.
        let still = w
            .observe(doing("a"), calls(2), t0 + Duration::from_secs(3))
            .unwrap();
        assert_eq!(still.throttled, backing_off.throttled);
        // Something else: a fresh start, no throttled call of its own yet.
        let next = w
            .observe(doing("b"), calls(2), t0 + Duration::from_secs(4))
            .unwrap();
        assert_eq!((next.throttled, next.seconds), (None, 0));
        let throttled_at_once = w
            .observe(doing("c"), calls(3), t0 + Duration::from_secs(5))
            .unwrap();
        assert_eq!(
            throttled_at_once.throttled.map(|t| t.count),
            Some(3),
            "counted for what it does next"
        );
        assert_eq!(w.observe(None, calls(5), t0), None);
    }
}
