//! The crash harness ("crash-safe by construction"): real `laris` processes are
//! killed with SIGKILL at moments drawn from a seeded RNG, then started or run again, and
//! the end state must be exactly that of a run that was never killed: products, orders,
//! customers, events, feedback, every customer's tier and the model, as `laris status
//! --json`, `laris customers` and the admin API report them.
//!
//! Five kinds of trial, one test each (`cargo test --test crash KIND` runs one):
//! - `seeding`: the first start of `laris serve` with the shipped config, which seeds the
//!   demo shop from its recording and its events file;
//! - `replay`: `laris replay demo/lengkuas/recording` into an empty store, offline;
//! - `import`: `laris import` of the demo shop's Seller Center exports (a product list and
//!   two sales reports, written from its recording);
//! - `sync`: `laris sync` from `laris mock-marketplace` serving the demo recording with
//!   scripted faults (a 429 with `Retry-After`, a 500, a cut-off body, a slow answer);
//! - `acknowledged`: event batches (`202`) and feedback messages (`201`) sent to `laris
//!   serve`, killed the moment the last answer arrives; after a restart every acknowledged
//!   event and message must be stored.
//!
//! A trial kills once or twice, runs `laris status --json` after every kill (it must not
//! fail), then lets the run finish. Kill moments are fractions of the duration of the
//! reference run, measured first in the same test, so they spread over the run on a slow
//! debug build as on a fast one. A trial that does not hold is named with its kind, seed,
//! number and kill moments; the same seed and number draw the same moments again.
//!
//! Knobs: `LARIS_CRASH_SEED` (default 12), `LARIS_CRASH_TRIALS` (trials per kind, default
//! 10), `LARIS_CRASH_TRIAL` (run only that trial of each kind). Every process is a [`Proc`],
//! killed when dropped, so a failing test leaves none behind; all traffic is to 127.0.0.1.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

const SHOP: &str = "lengkuas";
const DEFAULT_SEED: u64 = 12;
const DEFAULT_TRIALS: usize = 10;
/// Longest wait for one run to finish or one service to answer `/healthz`.
const PATIENCE: Duration = Duration::from_secs(90);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped_config() -> PathBuf {
    repo().join("config/laris.toml")
}

fn demo_recording() -> PathBuf {
    repo().join("demo/lengkuas/recording")
}

// ---- knobs ------------------------------------------------------------------------------

struct Knobs {
    seed: u64,
    trials: usize,
    only: Option<usize>,
}

fn env_number(name: &str, fix: &str) -> Option<u64> {
    let raw = std::env::var(name).ok()?;
    Some(
        raw.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={raw:?} is not a whole number: {fix}")),
    )
}

fn knobs() -> Knobs {
    let trials = env_number(
        "LARIS_CRASH_TRIALS",
        "give the trials per kind, e.g. LARIS_CRASH_TRIALS=20",
    )
    .unwrap_or(DEFAULT_TRIALS as u64) as usize;
    assert!(trials >= 1, "LARIS_CRASH_TRIALS=0 runs nothing: give at least 1");
    let only = env_number(
        "LARIS_CRASH_TRIAL",
        "give the trial number a failure message names, e.g. LARIS_CRASH_TRIAL=3",
    )
    .map(|n| n as usize);
    if let Some(n) = only.filter(|n| *n >= trials) {
        panic!("LARIS_CRASH_TRIAL={n} is past the last trial ({}): trials count from 0, or raise LARIS_CRASH_TRIALS", trials - 1);
    }
    Knobs {
        seed: env_number(
            "LARIS_CRASH_SEED",
            "give the seed a failure message names, e.g. LARIS_CRASH_SEED=12",
        )
        .unwrap_or(DEFAULT_SEED),
        trials,
        only,
    }
}

// ---- processes --------------------------------------------------------------------------

/// A child process, killed (SIGKILL) and reaped when dropped. Its output goes to files in
/// the trial's directory, so nothing blocks on a full pipe and a failure can quote it.
struct Proc {
    child: Child,
    what: String,
    stderr: PathBuf,
    started: Instant,
}

impl Proc {
    fn spawn(mut cmd: Command, what: &str, dir: &Path) -> Proc {
        let n = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
        let stdout = dir.join(format!("{n:02}-{what}.out"));
        let stderr = dir.join(format!("{n:02}-{what}.err"));
        let child = cmd
            .stdout(std::fs::File::create(&stdout).expect("the trial directory is writable"))
            .stderr(std::fs::File::create(&stderr).expect("the trial directory is writable"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Proc {
            child,
            what: what.to_string(),
            stderr,
            started: Instant::now(),
        }
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills the process `at` after it started, unless it ends first; true when it was
    /// still running.
    fn kill_at(&mut self, at: Duration) -> bool {
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let now = Instant::now();
            let due = self.started + at;
            if now >= due {
                self.kill9();
                return true;
            }
            std::thread::sleep((due - now).min(Duration::from_millis(2)));
        }
    }

    /// Waits (bounded) for the process to end by itself.
    fn finish(&mut self) -> Result<ExitStatus, String> {
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Ok(status);
            }
            if self.started.elapsed() > PATIENCE {
                self.kill9();
                return Err(format!(
                    "{} did not finish within {} s",
                    self.what,
                    PATIENCE.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The last lines of what it wrote to stderr.
    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(6)..].join(" | ")
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(self.stderr.with_extension("out")).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `laris --config CONFIG --data-dir DATA`, run from the repository root (the shipped
/// config's paths are relative to it), with no `LARIS_*` or proxy variables of the test's
/// environment: the config alone decides, and nothing leaves 127.0.0.1.
fn laris(config: &Path, data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_laris"));
    c.current_dir(repo())
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .stdin(Stdio::null());
    for (name, _) in std::env::vars_os() {
        let upper = name.to_string_lossy().to_uppercase();
        if upper.starts_with("LARIS_") || upper.ends_with("_PROXY") {
            c.env_remove(&name);
        }
    }
    c.env("RUST_LOG", "warn");
    c
}

/// Runs a command to its end (bounded); its stdout when it succeeds.
fn run_ok(cmd: Command, what: &str, dir: &Path) -> Result<String, String> {
    let mut p = Proc::spawn(cmd, what, dir);
    let status = p.finish()?;
    if !status.success() {
        return Err(format!("{what} failed ({status}): {}", p.stderr_tail()));
    }
    Ok(p.stdout())
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// A started `laris serve` and how to reach its admin API.
struct Service {
    proc: Proc,
    base: String,
    token: String,
}

fn spawn_serve(config: &Path, data: &Path, dir: &Path) -> Proc {
    let mut cmd = laris(config, data);
    cmd.args(["serve", "--addr", "127.0.0.1:0"]);
    Proc::spawn(cmd, "serve", dir)
}

/// Waits (bounded) until this very process answers `/healthz`; a stale address file of a
/// killed one is skipped by its pid.
fn wait_ready(mut proc: Proc, data: &Path, http: &reqwest::blocking::Client) -> Result<Service, String> {
    loop {
        if let Ok(Some(status)) = proc.child.try_wait() {
            return Err(format!(
                "laris serve ended ({status}) before it answered: {}",
                proc.stderr_tail()
            ));
        }
        let file: Option<Value> = std::fs::read(data.join("laris.serve.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(file) = file.filter(|f| f["pid"].as_u64() == Some(u64::from(proc.child.id()))) {
            let base = format!("http://{}", file["addr"].as_str().unwrap_or_default());
            if http
                .get(format!("{base}/healthz"))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                let token = std::fs::read_to_string(data.join("admin-token"))
                    .map_err(|e| format!("no admin-token in the data directory: {e}"))?
                    .trim()
                    .to_string();
                return Ok(Service { proc, base, token });
            }
        }
        if proc.started.elapsed() > PATIENCE {
            return Err(format!(
                "laris serve did not answer /healthz within {} s: {}",
                PATIENCE.as_secs(),
                proc.stderr_tail()
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Service {
    fn get(&self, http: &reqwest::blocking::Client, path: &str) -> Result<Value, String> {
        let r = http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .map_err(|e| format!("GET {path}: {e}"))?;
        if !r.status().is_success() {
            return Err(format!("GET {path} answered {}", r.status()));
        }
        r.json().map_err(|e| format!("GET {path}: {e}"))
    }

    fn state(&self, http: &reqwest::blocking::Client) -> Result<EndState, String> {
        EndState::from_reports(
            &self.get(http, &format!("/admin/api/status?shop={SHOP}"))?,
            &self.get(http, &format!("/admin/api/shops/{SHOP}/customers"))?,
        )
    }
}

/// `laris status --json` must work on the store a kill left behind. A kill before the store
/// was made leaves none: then status must say so (and make none), which is `Value::Null`.
fn status_after_kill(config: &Path, data: &Path, dir: &Path) -> Result<Value, String> {
    let mut cmd = laris(config, data);
    cmd.args(["status", "--json"]);
    let out = match run_ok(cmd, "status", dir) {
        Err(e) if e.contains("no store at") => {
            if data.join("store").join("conf").exists() {
                return Err(format!(
                    "`laris status` after a kill found no store in a made one: {e}"
                ));
            }
            return Ok(Value::Null);
        }
        other => other.map_err(|e| format!("`laris status` after a kill: {e}"))?,
    };
    serde_json::from_str(&out)
        .map_err(|e| format!("`laris status --json` after a kill printed no JSON ({e}): {out}"))
}

// ---- the end state ----------------------------------------------------------------------

/// What must be equal after a crash and a re-run: the shop's counts, its model, and every
/// customer's tier, spend and order count.
#[derive(Debug, Clone, PartialEq)]
struct EndState {
    counts: BTreeMap<&'static str, u64>,
    /// The status's `model` without its build time.
    model: Value,
    customers: BTreeMap<String, Value>,
}

const COUNTS: [&str; 8] = [
    "products",
    "active_products",
    "orders",
    "paid_orders",
    "customers",
    "quarantined",
    "events",
    "feedback",
];

impl EndState {
    fn from_reports(status: &Value, customers: &Value) -> Result<EndState, String> {
        let shop = status["shops"]
            .as_array()
            .and_then(|shops| shops.iter().find(|s| s["id"] == SHOP))
            .ok_or_else(|| format!("no shop {SHOP} in the status: {status}"))?;
        let mut counts = BTreeMap::new();
        for name in COUNTS {
            let n = shop[name]
                .as_u64()
                .ok_or_else(|| format!("the status has no count {name:?}: {shop}"))?;
            counts.insert(name, n);
        }
        let mut model = shop["model"].clone();
        if let Some(m) = model.as_object_mut() {
            m.remove("built_at");
        }
        let customers = customers
            .as_array()
            .ok_or_else(|| format!("the customers are not a list: {customers}"))?
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap_or_default().to_string(),
                    json!({"tier": c["tier"], "total_spend": c["total_spend"], "order_count": c["order_count"]}),
                )
            })
            .collect();
        Ok(EndState {
            counts,
            model,
            customers,
        })
    }

    /// Offline, with `laris status --json` and `laris customers`.
    fn offline(config: &Path, data: &Path, dir: &Path) -> Result<EndState, String> {
        let mut status = laris(config, data);
        status.args(["status", "--json", "--shop", SHOP]);
        let status = run_ok(status, "status", dir)?;
        let mut customers = laris(config, data);
        customers.args(["customers", "--shop", SHOP, "--format", "json"]);
        let customers = run_ok(customers, "customers", dir)?;
        let parse = |text: &str| serde_json::from_str::<Value>(text).map_err(|e| format!("{e}: {text}"));
        EndState::from_reports(&parse(&status)?, &parse(&customers)?)
    }

    /// How `self` differs from `expected`, one phrase per difference.
    fn differences(&self, expected: &EndState) -> Vec<String> {
        let mut out = Vec::new();
        for (name, want) in &expected.counts {
            let got = self.counts.get(name).copied().unwrap_or_default();
            if got != *want {
                out.push(format!("{name} {got}, expected {want}"));
            }
        }
        if self.model != expected.model {
            out.push(format!("model {}, expected {}", self.model, expected.model));
        }
        let differing: Vec<String> = expected
            .customers
            .iter()
            .filter(|(id, want)| self.customers.get(*id) != Some(want))
            .map(|(id, want)| {
                format!(
                    "{id} {}, expected {want}",
                    self.customers
                        .get(id)
                        .map_or("missing".to_string(), Value::to_string)
                )
            })
            .collect();
        let extra = self
            .customers
            .keys()
            .filter(|id| !expected.customers.contains_key(*id))
            .count();
        if !differing.is_empty() {
            out.push(format!(
                "{} of {} customers differ in tier, spend or orders (first: {})",
                differing.len(),
                expected.customers.len(),
                differing[0]
            ));
        }
        if extra > 0 {
            out.push(format!("{extra} customers that should not exist"));
        }
        out
    }
}

// ---- trials -----------------------------------------------------------------------------

/// One trial: its own RNG (from the seed, the kind and the trial number, so that a trial
/// repeats alone), its own directory, and a note of every kill for the report.
struct Trial {
    rng: ChaCha8Rng,
    dir: tempfile::TempDir,
    kills: Vec<String>,
    /// Runs that had ended by themselves before their kill moment.
    finished_early: usize,
}

impl Trial {
    fn new(seed: u64, kind: &str, number: usize) -> Trial {
        let salt = kind
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        Trial {
            rng: ChaCha8Rng::seed_from_u64(
                seed ^ salt.rotate_left(17) ^ (number as u64).wrapping_mul(0x9E37_79B9),
            ),
            dir: tempfile::tempdir().expect("a temporary directory"),
            kills: Vec::new(),
            finished_early: 0,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// How many times to kill: once or twice.
    fn kill_count(&mut self) -> usize {
        self.rng.gen_range(1..=2)
    }

    /// A kill moment within `span` (the reference run's duration, stretched by `stretch`).
    fn moment(&mut self, span: Duration, stretch: f64) -> Duration {
        let f: f64 = self.rng.gen_range(0.0..stretch);
        let at = span.mul_f64(f);
        self.kills.push(format!(
            "kill at {} ms ({f:.2} of the reference's {} ms)",
            at.as_millis(),
            span.as_millis()
        ));
        at
    }

    /// Kills `proc` at `at`, notes whether it was running, and checks `laris status`.
    fn kill_and_check(&mut self, proc: &mut Proc, at: Duration, config: &Path) -> Result<(), String> {
        if !proc.kill_at(at) {
            self.finished_early += 1;
            if let Some(last) = self.kills.last_mut() {
                last.push_str(", it had finished");
            }
        }
        status_after_kill(config, &self.data(), self.path()).map(|_| ())
    }
}

/// Runs the kind's trials, prints a summary line, and fails naming every trial that did
/// not hold. The kind's name is a word of its test's name, to filter by.
fn run_trials(kind: &str, mut one: impl FnMut(&mut Trial) -> Result<(), String>) {
    let knobs = knobs();
    let started = Instant::now();
    let (mut ran, mut held, mut early, mut failures) = (0, 0, 0, Vec::new());
    for number in 0..knobs.trials {
        if knobs.only.is_some_and(|only| only != number) {
            continue;
        }
        let mut trial = Trial::new(knobs.seed, kind, number);
        ran += 1;
        let outcome = one(&mut trial);
        early += trial.finished_early;
        match outcome {
            Ok(()) => held += 1,
            Err(why) => failures.push(format!("trial {number} [{}]: {why}", trial.kills.join("; "))),
        }
    }
    let mut line = format!(
        "crash harness {kind}: seed {}, {ran} trials, {held} held",
        knobs.seed
    );
    if early > 0 {
        line.push_str(&format!(
            " ({early} of the runs to kill had ended by themselves first)"
        ));
    }
    line.push_str(&format!(", {:.1} s", started.elapsed().as_secs_f64()));
    for f in &failures {
        line.push_str(&format!("\n  did not hold: {f}"));
    }
    // Straight to stdout, past the test harness's capture, so `cargo test` shows it.
    let _ = writeln!(std::io::stdout(), "{line}");
    assert!(
        failures.is_empty(),
        "{} of {ran} {kind} trials did not hold (LARIS_CRASH_SEED={}); repeat one with \
         `LARIS_CRASH_SEED={} LARIS_CRASH_TRIAL=N cargo test --test crash {kind}`:\n  {}",
        failures.len(),
        knobs.seed,
        knobs.seed,
        failures.join("\n  ")
    );
}

/// A command-line run (replay, import, sync) killed at seeded moments, then run to its
/// end, must leave what the uninterrupted reference run left.
fn cli_trial(
    trial: &mut Trial,
    config: &Path,
    reference: &(EndState, Duration),
    command: &dyn Fn(&Path) -> Command,
    what: &str,
) -> Result<(), String> {
    let data = trial.data();
    for _ in 0..trial.kill_count() {
        let at = trial.moment(reference.1, 1.0);
        let mut p = Proc::spawn(command(&data), what, trial.path());
        trial.kill_and_check(&mut p, at, config)?;
    }
    run_ok(command(&data), what, trial.path()).map_err(|e| format!("the re-run: {e}"))?;
    let got = EndState::offline(config, &data, trial.path())?;
    let diff = got.differences(&reference.0);
    if diff.is_empty() {
        Ok(())
    } else {
        Err(diff.join("; "))
    }
}

/// The reference: the command run once, uninterrupted, in a fresh store; its end state
/// and how long it took.
fn cli_reference(config: &Path, command: &dyn Fn(&Path) -> Command, what: &str) -> (EndState, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let started = Instant::now();
    run_ok(command(&data), what, dir.path()).unwrap_or_else(|e| panic!("the reference run: {e}"));
    let took = started.elapsed();
    let state = EndState::offline(config, &data, dir.path())
        .unwrap_or_else(|e| panic!("the reference's end state: {e}"));
    (state, took)
}

// ---- seeding ----------------------------------------------------------------------------

#[test]
fn seeding_the_demo_shop_killed_at_any_moment_ends_as_an_uninterrupted_first_start() {
    let config = shipped_config();
    let http = http();
    let reference = {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let p = spawn_serve(&config, &data, dir.path());
        let service = wait_ready(p, &data, &http).unwrap_or_else(|e| panic!("the reference start: {e}"));
        let took = service.proc.started.elapsed();
        let state = service
            .state(&http)
            .unwrap_or_else(|e| panic!("the reference's end state: {e}"));
        assert!(
            state.counts["orders"] > 0 && state.counts["events"] > 0,
            "the shipped config seeds the demo shop: {state:?}"
        );
        (state, took)
    };
    run_trials("seeding", |trial| {
        let data = trial.data();
        for _ in 0..trial.kill_count() {
            // A little past ready: a kill right after the start must be safe too.
            let at = trial.moment(reference.1, 1.15);
            let mut p = spawn_serve(&config, &data, trial.path());
            trial.kill_and_check(&mut p, at, &config)?;
        }
        let service = wait_ready(spawn_serve(&config, &data, trial.path()), &data, &http)
            .map_err(|e| format!("the restart: {e}"))?;
        let diff = service.state(&http)?.differences(&reference.0);
        if diff.is_empty() {
            Ok(())
        } else {
            Err(diff.join("; "))
        }
    });
}

// ---- replay -----------------------------------------------------------------------------

#[test]
fn a_replay_killed_at_any_moment_and_run_again_ends_as_an_uninterrupted_one() {
    let config = shipped_config();
    let replay = |data: &Path| {
        let mut c = laris(&config, data);
        c.arg("replay").arg(demo_recording()).args(["--shop", SHOP]);
        c
    };
    let reference = cli_reference(&config, &replay, "replay");
    run_trials("replay", |trial| {
        cli_trial(trial, &config, &reference, &replay, "replay")
    });
}

// ---- import -----------------------------------------------------------------------------

/// The demo shop's orders as the API recorded them, each invoice once, oldest paid first.
fn demo_api_records(path_part: &str) -> Vec<Value> {
    let dir = demo_recording();
    let index = std::fs::read_to_string(dir.join("index.jsonl")).unwrap();
    let mut records = Vec::new();
    for line in index.lines().filter(|l| !l.trim().is_empty()) {
        let ex: Value = serde_json::from_str(line).unwrap();
        let (Some(url), Some(body)) = (ex["url"].as_str(), ex["body"].as_str()) else {
            continue;
        };
        if ex["status"] != 200 || !url.contains(path_part) {
            continue;
        }
        let page: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(body)).unwrap()).unwrap();
        records.extend(page["data"].as_array().cloned().unwrap_or_default());
    }
    records
}

/// The Seller Center status text of an API order status.
fn status_text(code: i64) -> &'static str {
    match code {
        700 => "Pesanan Selesai",
        600 => "Pesanan Tiba",
        500 => "Pesanan Dikirim",
        220 | 400 => "Perlu Dikirim",
        550 => "Pengembalian Dana",
        0 => "Dibatalkan Pembeli",
        10 => "Dibatalkan Penjual",
        other => panic!("the demo recording has order status {other}: give it a Seller Center text here"),
    }
}

/// The demo shop's Seller Center exports, written from its recording: the product list
/// and the sales report in two files (older and newer half), as an owner downloads them.
fn write_demo_exports(dir: &Path) -> (PathBuf, [PathBuf; 2]) {
    let products = dir.join("produk.csv");
    let mut w = csv::Writer::from_path(&products).unwrap();
    w.write_record(["SKU Name", "Nama Produk", "Harga (Rp)", "Jumlah Stok"])
        .unwrap();
    for p in demo_api_records("/product/info") {
        w.write_record([
            p["other"]["sku"].as_str().unwrap().to_string(),
            p["basic"]["name"].as_str().unwrap().to_string(),
            p["price"]["value"].to_string(),
            p["stock"]["value"].to_string(),
        ])
        .unwrap();
    }
    w.flush().unwrap();

    let mut orders: BTreeMap<String, Value> = BTreeMap::new();
    for o in demo_api_records("/order/list") {
        orders.insert(o["invoice_ref_num"].as_str().unwrap().to_string(), o);
    }
    let mut orders: Vec<Value> = orders.into_values().collect();
    orders.sort_by_key(|o| {
        (
            o["payment_date"].as_i64(),
            o["invoice_ref_num"].as_str().map(String::from),
        )
    });
    assert!(
        orders.len() > 100,
        "the demo recording holds the demo shop's orders"
    );
    let wib = chrono::FixedOffset::east_opt(7 * 3600).unwrap();
    let half = orders.len() / 2;
    let files = [dir.join("penjualan-1.csv"), dir.join("penjualan-2.csv")];
    for (file, part) in files.iter().zip([&orders[..half], &orders[half..]]) {
        let mut w = csv::Writer::from_path(file).unwrap();
        w.write_record([
            "Nomor Invoice",
            "Tanggal Pembayaran",
            "Status Terakhir",
            "Nama Produk",
            "Nomor SKU",
            "Jumlah Produk Dibeli",
            "Harga Jual (IDR)",
            "ID Pembeli",
            "Nama Pembeli",
        ])
        .unwrap();
        for o in part {
            let paid = chrono::DateTime::from_timestamp(o["payment_date"].as_i64().unwrap(), 0)
                .unwrap()
                .with_timezone(&wib)
                .format("%d-%m-%Y %H:%M:%S")
                .to_string();
            for line in o["products"].as_array().unwrap() {
                w.write_record([
                    o["invoice_ref_num"].as_str().unwrap().to_string(),
                    paid.clone(),
                    status_text(o["order_status"].as_i64().unwrap()).to_string(),
                    line["name"].as_str().unwrap().to_string(),
                    line["sku"].as_str().unwrap().to_string(),
                    line["quantity"].to_string(),
                    line["price"].to_string(),
                    o["buyer"]["id"].to_string(),
                    o["buyer"]["name"].as_str().unwrap().to_string(),
                ])
                .unwrap();
            }
        }
        w.flush().unwrap();
    }
    (products, files)
}

#[test]
fn an_import_killed_at_any_moment_and_run_again_ends_as_an_uninterrupted_one() {
    let config = shipped_config();
    let exports = tempfile::tempdir().unwrap();
    let (products, [older, newer]) = write_demo_exports(exports.path());
    let import = |data: &Path| {
        let mut c = laris(&config, data);
        c.args(["import", "--shop", SHOP, "--products"])
            .arg(&products)
            .arg("--orders")
            .arg(&older)
            .arg("--orders")
            .arg(&newer);
        c
    };
    let reference = cli_reference(&config, &import, "import");
    assert!(
        reference.0.counts["orders"] > 100 && reference.0.model.is_object(),
        "the exports import completely: {:?}",
        reference.0
    );
    run_trials("import", |trial| {
        cli_trial(trial, &config, &reference, &import, "import")
    });
}

// ---- sync -------------------------------------------------------------------------------

/// The demo recording with faults on its product page, which every sync asks for whatever
/// its clock (order windows follow the clock, and the mock answers them from the recorded
/// orders): a 429 with `Retry-After`, a 500, a 200 whose body is cut off, then the page,
/// answered slowly.
fn write_faulty_recording(dir: &Path) {
    let demo = demo_recording();
    for entry in std::fs::read_dir(&demo).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let envelope = |reason: &str| json!({"header": {"process_time": 0.01, "messages": "", "reason": reason, "error_code": ""}, "data": null});
    std::fs::write(
        dir.join("fault-429.json"),
        envelope("too many requests").to_string(),
    )
    .unwrap();
    std::fs::write(dir.join("fault-500.json"), envelope("internal error").to_string()).unwrap();
    let page = std::fs::read_to_string(demo.join("0002.json")).unwrap();
    std::fs::write(dir.join("fault-cut.json"), &page[..page.len() / 2]).unwrap();

    let mut exchanges = Vec::new();
    for line in std::fs::read_to_string(demo.join("index.jsonl")).unwrap().lines() {
        let mut ex: Value = serde_json::from_str(line).unwrap();
        if ex["url"].as_str().is_some_and(|u| u.contains("/product/info")) {
            let fault = |status: u16, body: &str, extra: Value| {
                let mut f = ex.clone();
                f["status"] = json!(status);
                f["body"] = json!(body);
                for (k, v) in extra.as_object().unwrap() {
                    f["headers"][k] = v.clone();
                }
                f
            };
            exchanges.push(fault(429, "fault-429.json", json!({"retry-after": "0.2"})));
            exchanges.push(fault(500, "fault-500.json", json!({})));
            exchanges.push(fault(200, "fault-cut.json", json!({})));
            ex["headers"]["x-laris-mock-delay-ms"] = json!("150");
        }
        exchanges.push(ex);
    }
    let mut index = String::new();
    for (seq, mut ex) in exchanges.into_iter().enumerate() {
        ex["seq"] = json!(seq + 1);
        index.push_str(&format!("{ex}\n"));
    }
    std::fs::write(dir.join("index.jsonl"), index).unwrap();
}

/// `laris mock-marketplace` on a free port of 127.0.0.1; the process and its base URL.
fn start_mock(recording: &Path, dir: &Path) -> Result<(Proc, String), String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_laris"));
    cmd.arg("mock-marketplace")
        .arg(recording)
        .args(["--addr", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    let mock = Proc::spawn(cmd, "mock", dir);
    let out = mock.stderr.with_extension("out");
    loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if let Some(base) = text.lines().next().and_then(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("http://127.0.0.1:"))
                .filter(|_| text.contains('\n'))
        }) {
            return Ok((mock, base.to_string()));
        }
        if mock.started.elapsed() > PATIENCE {
            return Err(format!(
                "the mock marketplace did not start: {}",
                mock.stderr_tail()
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The shipped config without its seed, with the mock as the shop's marketplace.
fn write_sync_config(dir: &Path, base: &str, history_days: i64) -> PathBuf {
    let shipped = std::fs::read_to_string(shipped_config()).unwrap();
    let mut text: String = shipped
        .lines()
        .map(|l| {
            if l.starts_with("seed_") {
                format!("# {l}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    text.push_str(&format!(
        r#"
[[shops.sources]]
kind = "marketplace_api"
base_url = "{base}"
token_url = "{base}/token"
fs_id = "15001"
shop_id = "479573"
client_id = "laris-crash"
client_secret = "crash-harness-secret"
history_days = {history_days}
http = {{ retries = 4, backoff_ms = 10, connect_timeout_secs = 2, read_timeout_secs = 10 }}
"#
    ));
    let path = dir.join("laris.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_sync_from_the_faulty_mock_marketplace_killed_at_any_moment_and_run_again_ends_as_an_uninterrupted_one() {
    let recording = tempfile::tempdir().unwrap();
    write_faulty_recording(recording.path());
    // Back to before the demo's first order (May 2026), whatever today is.
    let history_days =
        (chrono::Utc::now() - chrono::DateTime::from_timestamp(1_775_000_000, 0).unwrap()).num_days() + 30;
    let sync = |config: &Path, data: &Path| {
        let mut c = laris(config, data);
        c.args(["sync", "--shop", SHOP]);
        c
    };
    // Each run meets the faults afresh: a mock of its own.
    let reference = {
        let dir = tempfile::tempdir().unwrap();
        let (_mock, base) = start_mock(recording.path(), dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let config = write_sync_config(dir.path(), &base, history_days);
        cli_reference(&config, &|data: &Path| sync(&config, data), "sync")
    };
    assert_eq!(
        (reference.0.counts["products"], reference.0.counts["orders"]),
        (10, 600),
        "the reference sync pulls the whole demo shop"
    );
    run_trials("sync", |trial| {
        let (_mock, base) = start_mock(recording.path(), trial.path())?;
        let config = write_sync_config(trial.path(), &base, history_days);
        cli_trial(
            trial,
            &config,
            &reference,
            &|data: &Path| sync(&config, data),
            "sync",
        )
    });
}

// ---- acknowledged events and feedback ---------------------------------------------------

#[test]
fn every_acknowledged_event_and_feedback_message_survives_a_kill_9_right_after_its_answer() {
    let config = shipped_config();
    let http = http();
    const ITEMS: [&str; 4] = ["TPG-100", "TPG-250P", "SBL-150", "SRD-100"];
    const TYPES: [&str; 3] = ["impression", "click", "add_to_cart"];
    run_trials("acknowledged", |trial| {
        // The shipped config: the first start seeds the demo shop, whose events and
        // messages are counted before anything is sent.
        let data = trial.data();
        let service = wait_ready(spawn_serve(&config, &data, trial.path()), &data, &http)?;
        let before = service.state(&http)?;
        let secret = std::fs::read_to_string(data.join(format!("customer-secret-{SHOP}")))
            .map_err(|e| format!("no customer secret in the data directory: {e}"))?;
        // Old enough to pass the form's "filled in too fast" check; each message brings its
        // own, as each form token is taken once.
        let form_token = || {
            laris::web::feedback::form_token(secret.trim().as_bytes(), chrono::Utc::now().timestamp() - 10)
        };
        // Under the per-address limits: at most 50 events (60 at once) and 3 messages.
        let sends = trial.rng.gen_range(1..=5);
        let (mut events, mut messages) = (0u64, Vec::new());
        let mut service = service;
        for n in 0..sends {
            let gap = Duration::from_millis(trial.rng.gen_range(0..300));
            std::thread::sleep(gap);
            let feedback = messages.len() < 3 && trial.rng.gen_bool(0.4);
            let (path, body, want) = if feedback {
                let message = format!("crash trial message {n}: serundengnya enak, kirim lebih cepat");
                messages.push(message.clone());
                (
                    "feedback",
                    json!({"message": message, "website": "", "form_token": form_token(), "lang": "en"}),
                    201,
                )
            } else {
                let count = trial.rng.gen_range(1..=10);
                let batch: Vec<Value> = (0..count)
                    .map(|i| json!({"type": TYPES[i % 3], "slot": "similar", "product": "SRD-100", "item": ITEMS[i % ITEMS.len()]}))
                    .collect();
                events += count as u64;
                ("events", json!({ "events": batch }), 202)
            };
            let answer = http
                .post(format!("{}/v1/shops/{SHOP}/{path}", service.base))
                .json(&body)
                .send()
                .map_err(|e| format!("POST {path}: {e}"))?;
            if answer.status().as_u16() != want {
                return Err(format!(
                    "POST {path} answered {} (expected {want}): {}",
                    answer.status(),
                    answer.text().unwrap_or_default()
                ));
            }
        }
        // The moment the last answer arrived.
        service.proc.kill9();
        trial.kills.push(format!(
            "{sends} requests (events: {events}, messages: {}), kill right after the last answer",
            messages.len()
        ));
        status_after_kill(&config, &data, trial.path())?;
        let restarted = wait_ready(spawn_serve(&config, &data, trial.path()), &data, &http)
            .map_err(|e| format!("the restart: {e}"))?;
        let after = restarted.state(&http)?;
        let mut lost = Vec::new();
        for (name, sent) in [("events", events), ("feedback", messages.len() as u64)] {
            let want = before.counts[name] + sent;
            if after.counts[name] != want {
                lost.push(format!(
                    "{name} {}, expected {want} ({sent} acknowledged)",
                    after.counts[name]
                ));
            }
        }
        let stored = restarted.get(&http, &format!("/admin/api/shops/{SHOP}/feedback"))?;
        let texts: Vec<&str> = stored["messages"]
            .as_array()
            .map(|m| m.iter().filter_map(|m| m["message"].as_str()).collect())
            .unwrap_or_default();
        let missing = messages.iter().filter(|m| !texts.contains(&m.as_str())).count();
        if missing > 0 {
            lost.push(format!(
                "acknowledged messages missing from the feedback page: {missing}"
            ));
        }
        if lost.is_empty() {
            Ok(())
        } else {
            Err(lost.join("; "))
        }
    });
}

// ---- outreach: a kill -9 between "due" and "sent" ----

/// A webhook receiver on 127.0.0.1 (plain HTTP/1.1 over std's `TcpListener`): while
/// `hold` is set it never answers the first request (the service is then in the middle of
/// a try when it is killed); every later request is answered `200` and its
/// `Idempotency-Key` counted.
struct Receiver {
    url: String,
    first_seen: std::sync::Arc<std::sync::atomic::AtomicBool>,
    delivered: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn receiver() -> Receiver {
    use std::io::{BufRead, BufReader, Read};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let first_seen = Arc::new(AtomicBool::new(false));
    let delivered: Arc<Mutex<Vec<String>>> = Arc::default();
    let (seen, got) = (first_seen.clone(), delivered.clone());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let (mut length, mut key) = (0usize, String::new());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("idempotency-key:") {
                    key = line["idempotency-key:".len()..].trim().to_string();
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            if !seen.swap(true, Ordering::SeqCst) {
                // Keep the connection open and never answer.
                held.push(reader);
                continue;
            }
            got.lock().unwrap().push(key);
            let mut stream = reader.into_inner();
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    Receiver {
        url,
        first_seen,
        delivered,
    }
}

#[test]
fn a_message_whose_webhook_try_a_kill_9_cut_off_is_delivered_once_after_the_restart() {
    use std::sync::atomic::Ordering;
    let http = http();
    let dir = tempfile::tempdir().unwrap();
    let hook = receiver();
    // The shipped config with a webhook and no quiet hours (the test runs at any hour).
    let shipped = std::fs::read_to_string(shipped_config()).unwrap();
    assert!(
        shipped.contains("quiet_hours = \"21:00-08:00\""),
        "the demo shop's outreach block moved"
    );
    let text = shipped.replace(
        "quiet_hours = \"21:00-08:00\"",
        &format!(
            "webhook_url = \"{}\"\nwebhook_secret = \"crash-test-secret-0123456789\"\nwebhook_backoff_secs = 1",
            hook.url
        ),
    );
    let config = dir.path().join("laris.toml");
    std::fs::write(&config, text).unwrap();
    let data = dir.path().join("data");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();

    // The first start seeds the demo shop, runs its automations (every message recorded
    // as due, on disk) and starts the first try, which the receiver never answers.
    let mut service = wait_ready(spawn_serve(&config, &data, &logs), &data, &http).unwrap();
    let started = Instant::now();
    while !hook.first_seen.load(Ordering::SeqCst) {
        assert!(
            started.elapsed() < PATIENCE,
            "no webhook try within {} s",
            PATIENCE.as_secs()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let recorded = service
        .get(&http, &format!("/admin/api/shops/{SHOP}/messages"))
        .map(|v| v["messages"].as_array().map(Vec::len).unwrap_or(0))
        .unwrap_or(0);
    service.proc.kill9();
    assert!(
        hook.delivered.lock().unwrap().is_empty(),
        "nothing was answered before the kill"
    );

    // After the restart every message is delivered exactly once, the cut-off one included.
    let restarted = wait_ready(spawn_serve(&config, &data, &logs), &data, &http).unwrap();
    let started = Instant::now();
    let messages = loop {
        let all = restarted
            .get(&http, &format!("/admin/api/shops/{SHOP}/messages"))
            .unwrap();
        let all = all["messages"].as_array().cloned().unwrap_or_default();
        if !all.is_empty() && all.iter().all(|m| m["status"] == "sent") {
            break all;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "not every message was sent within {} s: {:?}",
            PATIENCE.as_secs(),
            all.iter().map(|m| m["status"].clone()).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        recorded == 0 || recorded == messages.len(),
        "{recorded} recorded before the kill, {} after",
        messages.len()
    );
    let mut delivered = hook.delivered.lock().unwrap().clone();
    let mut keys: Vec<String> = messages
        .iter()
        .map(|m| m["key"].as_str().unwrap().to_string())
        .collect();
    delivered.sort();
    keys.sort();
    assert_eq!(delivered, keys, "each message's key answered 200 exactly once");
}
