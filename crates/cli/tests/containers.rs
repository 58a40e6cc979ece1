//! `berth` and the docker CLI 28 side by side on containers and volumes:
//! run (exit codes, env, workdir, user, stdin, stdout vs stderr, --rm,
//! -d then logs/wait/rm), create/start -a, ps formats, inspect --format,
//! logs, exec, stop/kill/restart, rename, rm -f, cp both ways, export,
//! diff, commit, top, port, stats --no-stream, volumes, and docker's
//! refusals of bad flags. Each client makes its own containers (names
//! prefixed `d-`/`b-`) and every one is removed at the end.
//!
//! Against berthd (`BERTH_CLI_TEST_DAEMON=berthd`) the test skips loudly
//! while berthd answers `GET /containers/json` with an error.

mod support;

use std::path::Path;

use support::{Checks, Client, Engine, Out, mask_times, poll};

const TEST: &str = "berth_containers_match_the_docker_cli";
const IMG: &str = "berth-test/ctr-busybox";

fn as_berth(s: &str) -> String {
    s.lines()
        .map(|l| {
            l.replace("docker: ", "berth: ")
                .replace("'docker ", "'berth ")
                .replace("Usage:  docker ", "Usage:  berth ")
                .replace("Run 'docker ", "Run 'berth ")
                .replace("See 'docker ", "See 'berth ")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if s.ends_with('\n') { "\n" } else { "" }
}

struct Side<'a> {
    berth: &'a Client,
    docker: &'a Client,
}

impl Side<'_> {
    /// Run `args` through both (`{}` in an argument becomes `d-`/`b-`);
    /// compare codes, normalized stdout and stderr.
    fn same_with(
        &self,
        c: &mut Checks,
        args: &[&str],
        stdin: Option<&[u8]>,
        norm: &dyn Fn(&str) -> String,
    ) -> (Out, Out) {
        let sub = |p: &str| -> Vec<String> { args.iter().map(|a| a.replace("{}", p)).collect() };
        let (da, ba) = (sub("d-"), sub("b-"));
        let da: Vec<&str> = da.iter().map(String::as_str).collect();
        let ba: Vec<&str> = ba.iter().map(String::as_str).collect();
        let (d, b) = match stdin {
            Some(i) => (self.docker.run_stdin(&da, i), self.berth.run_stdin(&ba, i)),
            None => (self.docker.run(&da), self.berth.run(&ba)),
        };
        let unify = |s: &str| s.replace("b-", "d-");
        let ok = d.code == b.code
            && norm(&d.stdout) == norm(&unify(&b.stdout))
            && norm(&as_berth(&d.stderr)) == norm(&unify(&b.stderr));
        c.check(
            &format!("berth {} == docker", args.join(" ")),
            ok,
            format!("docker: {}\nberth:  {}", d.describe(), b.describe()),
        );
        (d, b)
    }

    fn same(&self, c: &mut Checks, args: &[&str]) -> (Out, Out) {
        self.same_with(c, args, None, &|s| mask_times(s))
    }
}

/// Keep a table's header (column names only: their padding follows the
/// widths of values that differ from run to run) and the number of rows.
fn shape(s: &str) -> String {
    let mut lines = s.lines();
    let head = lines
        .next()
        .unwrap_or("")
        .split("  ")
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    format!("{head}\n{} rows", lines.count())
}

#[test]
fn berth_containers_match_the_docker_cli() {
    if !berth_testutil::require_root(TEST) {
        return;
    }
    let Some(engine) = Engine::from_env(TEST, &[]) else {
        return;
    };
    let scratch = engine.scratch();
    let host = engine.host();
    let berth = Client::berth(&host, &scratch.join("berth-config"));
    let docker = Client::docker(&host, &scratch.join("docker-config"));
    let s = Side {
        berth: &berth,
        docker: &docker,
    };
    let mut c = Checks::default();
    if setup(&docker, &scratch, &mut c) {
        running(&s, &mut c);
        lifecycle(&s, &scratch, &mut c);
        volumes(&s, &mut c);
        networks(&s, &mut c);
        bad_flags(&s, &mut c);
    }
    // clean up whatever a failed check left
    for p in ["d-", "b-"] {
        let ids = docker.run(&["ps", "-aq", "--filter", &format!("name={p}")]);
        for id in ids.stdout.split_whitespace() {
            docker.run(&["rm", "-f", id]);
        }
    }
    docker.run(&["volume", "prune", "-f"]);
    for v in ["d-vol", "b-vol"] {
        docker.run(&["volume", "rm", "-f", v]);
    }
    let left = docker.run(&["ps", "-aq"]);
    c.check(
        "no container is left behind",
        left.stdout.trim().is_empty(),
        left.describe(),
    );
    let log = engine.log();
    for leak in engine.shutdown() {
        c.fail("the daemon leaves nothing behind", leak);
    }
    c.finish(TEST, &format!("daemon log:\n{log}"));
}

fn setup(docker: &Client, scratch: &Path, c: &mut Checks) -> bool {
    let tar = support::busybox_tar(scratch);
    let o = docker.run(&[
        "import",
        "-c",
        "CMD [\"sh\"]",
        "-c",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        tar.to_str().expect("utf-8"),
        IMG,
    ]);
    c.check("import the test image", o.code == 0, o.describe());
    o.code == 0
}

fn running(s: &Side, c: &mut Checks) {
    s.same(c, &["run", "--rm", IMG, "echo", "hello"]);
    s.same(
        c,
        &[
            "run",
            "--rm",
            IMG,
            "sh",
            "-c",
            "echo out; echo err >&2; exit 3",
        ],
    );
    s.same(c, &["run", "--rm", IMG, "nosuchcommand"]);
    s.same(c, &["run", "--rm", IMG, "/etc"]);
    s.same(
        c,
        &[
            "run",
            "--rm",
            "-e",
            "A=1",
            "-e",
            "B",
            "-w",
            "/tmp",
            "-u",
            "1:2",
            IMG,
            "sh",
            "-c",
            "echo $A $B; pwd; id",
        ],
    );
    s.same(c, &["run", "--rm", "-h", "myhost", IMG, "hostname"]);
    s.same(
        c,
        &[
            "run",
            "--rm",
            "--entrypoint",
            "echo",
            IMG,
            "via",
            "entrypoint",
        ],
    );
    s.same_with(
        c,
        &["run", "--rm", "-i", IMG, "sh", "-c", "tr a-z A-Z; exit 4"],
        Some(b"piped input\n"),
        &|s| s.to_string(),
    );
    s.same(
        c,
        &[
            "run",
            "--rm",
            "-a",
            "stderr",
            IMG,
            "sh",
            "-c",
            "echo out; echo err >&2",
        ],
    );
    s.same(c, &["run", "--rm", "--read-only", IMG, "touch", "/x"]);
    s.same(
        c,
        &[
            "run",
            "--rm",
            "--tmpfs",
            "/t",
            IMG,
            "sh",
            "-c",
            "touch /t/x && echo ok",
        ],
    );
    s.same(
        c,
        &[
            "run",
            "--rm",
            "-l",
            "a=b",
            "-m",
            "64m",
            "--cpus",
            "0.5",
            "--pids-limit",
            "50",
            "--ulimit",
            "nofile=100:200",
            IMG,
            "sh",
            "-c",
            "ulimit -n",
        ],
    );
    s.same(c, &["run", "--rm", "-it", IMG, "true"]);
    s.same(c, &["run", "-d", "-a", "stdout", IMG, "true"]);
}

fn lifecycle(s: &Side, scratch: &Path, c: &mut Checks) {
    let id_norm = |s: &str| -> String {
        s.lines()
            .map(|l| {
                if l.len() == 64 {
                    "<ID>".into()
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    s.same_with(
        c,
        &[
            "run",
            "-d",
            "--name",
            "{}top",
            "-l",
            "k=v",
            IMG,
            "sh",
            "-c",
            "echo line1; sleep 0.3; echo line2 >&2; sleep 300",
        ],
        None,
        &id_norm,
    );
    // Both have written line2 (not a fixed sleep: a loaded machine can take longer).
    let logged = |cl: &Client, name: &str| cl.run(&["logs", name]).stderr.contains("line2");
    let both = poll(std::time::Duration::from_secs(20), || {
        logged(s.docker, "d-top") && logged(s.berth, "b-top")
    });
    c.check("both containers logged line2", both, "waited 20 s");
    s.same(c, &["logs", "{}top"]);
    s.same_with(c, &["logs", "-t", "{}top"], None, &|s| {
        s.lines()
            .map(|l| {
                // RFC 3339 with up to nine digits of seconds (Go drops
                // trailing zeros): its shape, not its length
                l.split_once(' ')
                    .map(|(t, r)| {
                        let shape = t.len() >= 21 && t.len() <= 30 && t.ends_with('Z');
                        format!("{shape}|{r}")
                    })
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    s.same(c, &["logs", "--tail", "1", "{}top"]);
    s.same(
        c,
        &[
            "inspect",
            "--format",
            "{{.Name}} {{.State.Running}} {{.Config.Labels}} {{json .Config.Cmd}}",
            "{}top",
        ],
    );
    s.same(
        c,
        &["container", "inspect", "-f", "{{.State.Status}}", "{}top"],
    );
    s.same(c, &["exec", "{}top", "sh", "-c", "exit 7"]);
    s.same(
        c,
        &[
            "exec",
            "-e",
            "X=9",
            "-w",
            "/bin",
            "-u",
            "3",
            "{}top",
            "sh",
            "-c",
            "echo $X; pwd; id -u",
        ],
    );
    s.same(c, &["exec", "{}top", "nosuch"]);
    s.same_with(c, &["top", "{}top"], None, &|s| {
        s.lines().next().unwrap_or("").to_string()
    });
    s.same(c, &["port", "{}top"]);
    s.same(
        c,
        &[
            "ps",
            "--filter",
            "name={}top",
            "--format",
            "{{.Names}} {{.Image}} {{.Command}} {{.State}} {{.Labels}}",
        ],
    );
    // the header, and each row's ID width and name (ages and IDs differ)
    s.same_with(c, &["ps", "--filter", "name={}top"], None, &|s| {
        s.lines()
            .map(|l| {
                let cells: Vec<&str> = l
                    .split("   ")
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .collect();
                format!(
                    "{} {}",
                    cells.first().map_or(0, |c| c.len()),
                    cells.last().unwrap_or(&"")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
            + &shape(s)
    });
    s.same_with(
        c,
        &["ps", "-a", "--filter", "name={}top", "--format", "json"],
        None,
        &|s| {
            let j: serde_json::Value = serde_json::from_str(s.trim()).unwrap_or_default();
            let keys: Vec<String> = j
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            format!("{keys:?} {} {}", j["Names"], j["State"])
        },
    );
    s.same_with(c, &["stats", "--no-stream", "{}top"], None, &shape);
    s.same(c, &["pause", "{}top"]);
    s.same(c, &["unpause", "{}top"]);
    s.same(c, &["rename", "{}top", "{}top2"]);
    s.same(c, &["restart", "-t", "1", "{}top2"]);
    s.same(c, &["kill", "-s", "KILL", "{}top2"]);
    s.same(c, &["wait", "{}top2"]);
    s.same(c, &["start", "{}top2"]);
    s.same(c, &["stop", "-t", "1", "{}top2"]);
    s.same(c, &["diff", "{}top2"]);
    s.same(c, &["rm", "{}top2"]);

    // create + start -a
    s.same_with(
        c,
        &[
            "create",
            "--name",
            "{}c",
            IMG,
            "sh",
            "-c",
            "echo created; mkdir /newdir; echo data > /newdir/f; exit 2",
        ],
        None,
        &id_norm,
    );
    s.same(c, &["start", "-a", "{}c"]);
    s.same_with(c, &["diff", "{}c"], None, &|s| {
        support::sorted_rows(s).join("\n")
    });
    for p in ["d-", "b-"] {
        let dir = scratch.join(format!("{p}cp"));
        let _ = std::fs::create_dir_all(&dir);
    }
    let cp_dir = scratch.display().to_string();
    s.same(
        c,
        &["cp", "{}c:/newdir/f", &format!("{cp_dir}/{{}}cp/copied")],
    );
    s.same(c, &["cp", "{}c:/newdir", &format!("{cp_dir}/{{}}cp/")]);
    let same_files = std::fs::read(scratch.join("d-cp/copied")).ok()
        == std::fs::read(scratch.join("b-cp/copied")).ok()
        && std::fs::read(scratch.join("b-cp/newdir/f")).is_ok_and(|f| f == b"data\n");
    c.check(
        "cp from the container writes the same files",
        same_files,
        "",
    );
    s.same(
        c,
        &["cp", &format!("{cp_dir}/{{}}cp/copied"), "{}c:/newdir/back"],
    );
    s.same(c, &["start", "-a", "{}c"]);
    s.same_with(c, &["export", "{}c"], None, &|s| {
        (s.len() > 1000).to_string()
    });
    s.same_with(
        c,
        &[
            "commit",
            "-m",
            "msg",
            "-c",
            "ENV C=1",
            "{}c",
            "berth-test/{}committed:v1",
        ],
        None,
        &|s| (s.trim().len() == 71).to_string(),
    );
    s.same(
        c,
        &[
            "image",
            "inspect",
            "-f",
            "{{.Comment}} {{.Config.Env}}",
            "berth-test/{}committed:v1",
        ],
    );
    s.same_with(c, &["rmi", "berth-test/{}committed:v1"], None, &|s| {
        s.lines().next().unwrap_or("").to_string()
    });
    s.same(c, &["rm", "-f", "{}c", "{}nosuch"]);
    s.same(c, &["rm", "{}nosuch"]);
    s.same(c, &["stop", "{}nosuch"]);
    s.same(c, &["kill", "{}nosuch"]);
    s.same(c, &["start", "{}nosuch"]);
    s.same(c, &["rename", "{}nosuch", "x"]);
    s.same(c, &["logs", "{}nosuch"]);
    s.same(c, &["exec", "{}nosuch", "true"]);
    s.same(c, &["container", "inspect", "{}nosuch"]);
    s.same(c, &["inspect", "{}nosuch"]);
    // -d, then wait and rm
    s.same_with(
        c,
        &[
            "run",
            "-d",
            "--name",
            "{}bg",
            IMG,
            "sh",
            "-c",
            "echo bg; exit 6",
        ],
        None,
        &id_norm,
    );
    s.same(c, &["wait", "{}bg"]);
    s.same(c, &["logs", "{}bg"]);
    s.same(c, &["ps", "-a", "-q", "--filter", "name={}nosuchname"]);
    s.same(c, &["rm", "{}bg"]);
    s.same(
        c,
        &["container", "prune", "-f", "--filter", "label=nosuchlabel"],
    );
}

fn networks(s: &Side, c: &mut Checks) {
    // an id is printed: its length is what both share
    s.same_with(
        c,
        &["network", "create", "--internal", "--label", "a=b", "{}net"],
        None,
        &|s| s.trim().len().to_string(),
    );
    s.same(
        c,
        &[
            "network",
            "ls",
            "--filter",
            "name={}net",
            "--format",
            "{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}} {{.Labels}}",
        ],
    );
    s.same(
        c,
        &[
            "network",
            "inspect",
            "--format",
            "{{.Name}} {{.Driver}} {{.Internal}} {{.Labels}}",
            "{}net",
        ],
    );
    s.same(c, &["network", "create", "--subnet", "bogus", "{}bad"]);
    s.same(c, &["network", "rm", "{}net"]);
    s.same(c, &["network", "rm", "{}net"]);
    s.same(c, &["network", "rm", "-f", "{}net"]);
    s.same(c, &["network", "connect", "{}net"]);
}

fn volumes(s: &Side, c: &mut Checks) {
    s.same(c, &["volume", "create", "--label", "a=b", "{}vol"]);
    s.same(c, &["volume", "ls", "--filter", "name={}vol"]);
    s.same(c, &["volume", "ls", "-q", "--filter", "name={}vol"]);
    s.same_with(
        c,
        &["volume", "ls", "--format", "json", "--filter", "name={}vol"],
        None,
        &|s| s.replace("b-", "d-"),
    );
    s.same(
        c,
        &[
            "volume",
            "inspect",
            "--format",
            "{{.Name}} {{.Driver}} {{.Labels}}",
            "{}vol",
        ],
    );
    s.same(
        c,
        &[
            "run",
            "--rm",
            "-v",
            "{}vol:/data",
            IMG,
            "sh",
            "-c",
            "echo hi > /data/f; cat /data/f",
        ],
    );
    s.same(c, &["volume", "rm", "{}vol"]);
    s.same(c, &["volume", "rm", "{}vol"]);
    s.same(c, &["volume", "inspect", "{}vol"]);
    s.same(
        c,
        &["volume", "prune", "-f", "--filter", "label=nosuchlabel"],
    );
}

fn bad_flags(s: &Side, c: &mut Checks) {
    s.same(c, &["run", "--memory", "foo", IMG]);
    s.same(c, &["run", "-p", "99999:1", IMG]);
    s.same(c, &["run", "--restart", "bogus", IMG]);
    s.same(c, &["run", "--cpus", "foo", IMG]);
    s.same(c, &["run", "--rm", "--restart", "always", IMG]);
    s.same(c, &["run", "--ulimit", "bogus=1", IMG]);
    s.same(c, &["create", "--pull", "bogus", IMG]);
    s.same(c, &["run"]);
    s.same(c, &["exec", "x"]);
    s.same(c, &["rename", "a"]);
    s.same(c, &["run", "--rm", "berth-test/nosuchimage:v0"]);
}
