"""Hostile and clumsy input to the csei program: output paths that are inputs, devices, FIFOs or
links; inputs that are not regular files; counts that overflow; sizes that would take hours or
more memory than there is; signals during world building; a full disk. Every case ends with a
clear message and exit code 2 (bad input), 1 (output failure) or 130 (interrupted), never a
signal, a hang or a destroyed file."""
import os
import pathlib
import shutil
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest


def run(cmd, cwd=None, timeout=120, env=None):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def small(repo, tmp_path, name="s.toml"):
    path = tmp_path / name
    shutil.copy(repo / "tests/data/small.toml", path)
    return path


SWEEP = """
name = "hs"
scenario = "{scenario}"
set = ["time.steps=6", "organisations.total=300"]
seed = 3
[design]
kind = "lhs"
samples = {samples}
[[parameters]]
key = "innovations[0].q"
range = [0.5, 2.0]
[outcomes]
metrics = ["*.final_share"]
"""


def sweep_file(tmp_path, scenario, samples=2):
    path = tmp_path / "sw.toml"
    path.write_text(SWEEP.format(scenario=scenario, samples=samples))
    return path


# -------------------------------------------------------------------- -o names an input


@pytest.mark.parametrize("how", ["same", "hardlink", "symlink", "dotted"])
def test_run_refuses_to_write_over_its_scenario(csei, repo, tmp_path, how):
    scenario = small(repo, tmp_path)
    before = scenario.read_bytes()
    out = {"same": str(scenario), "dotted": str(tmp_path / "." / "s.toml")}.get(how)
    if how == "hardlink":
        out = str(tmp_path / "hard.toml")
        os.link(scenario, out)
    elif how == "symlink":
        out = str(tmp_path / "link.toml")
        os.symlink(scenario, out)
    r = run([csei, "run", str(scenario), "-o", out])
    assert r.returncode == 2, r.stderr
    assert "is the scenario of this run" in r.stderr and out in r.stderr
    assert scenario.read_bytes() == before
    assert not list(tmp_path.glob("*.partial-*"))


def test_run_refuses_to_write_over_its_base_and_territory_table(csei, repo, tmp_path):
    shutil.copy(repo / "scenarios/data/eu27.csv", tmp_path / "t.csv")
    base = tmp_path / "base.toml"
    base.write_text((repo / "tests/data/small.toml").read_text().replace(
        """list = [
  { code = "AA", name = "Alpha", population = 1000000, lat = 48.0, lon = 2.0 },
  { code = "BB", name = "Beta", population = 500000, lat = 50.0, lon = 8.0 },
  { code = "CC", name = "Gamma", population = 250000, lat = 45.0, lon = 12.0 },
]""", 'csv = "t.csv"').replace('pioneer_territory = "AA"', ""))
    variant = tmp_path / "v.toml"
    variant.write_text('extends = "base.toml"\nname = "v"\n')
    assert run([csei, "validate", str(variant)]).returncode == 0
    for target, role in [(base, "a base scenario (extends)"), (tmp_path / "t.csv",
                                                               "the territory table")]:
        before = target.read_bytes()
        r = run([csei, "run", str(variant), "-o", str(target)])
        assert r.returncode == 2, r.stderr
        assert role in r.stderr
        assert target.read_bytes() == before


@pytest.mark.parametrize("dry", [False, True])
def test_sweep_refuses_to_write_over_its_inputs(csei, repo, tmp_path, dry):
    scenario = small(repo, tmp_path)
    sw = sweep_file(tmp_path, scenario)
    for target, role in [(sw, "the sweep file"), (scenario, "the sweep's base scenario")]:
        before = target.read_bytes()
        r = run([csei, "sweep", str(sw), "-o", str(target)] + (["--dry-run"] if dry else []))
        assert r.returncode == 2, r.stderr
        assert role in r.stderr and str(target) in r.stderr
        assert target.read_bytes() == before
    assert not list(tmp_path.glob("*.journal.*"))


@pytest.mark.parametrize("kind", ["devnull", "fifo", "folder"])
def test_output_that_is_not_a_regular_file_is_refused(csei, repo, tmp_path, kind):
    scenario = small(repo, tmp_path)
    if kind == "devnull":
        # A node of its own, like /dev/null (a csei without the check would replace it).
        if os.geteuid() != 0:
            pytest.skip("making a device node needs root")
        out, what = str(tmp_path / "null"), "a character device"
        os.mknod(out, 0o20666, os.makedev(1, 3))
    elif kind == "fifo":
        out, what = str(tmp_path / "pipe"), "a FIFO"
        os.mkfifo(out)
    else:
        out, what = str(tmp_path), "a folder"
    for cmd in ([csei, "run", str(scenario), "-o", out],
                [csei, "sweep", str(sweep_file(tmp_path, scenario)), "-o", out, "--dry-run"]):
        r = run(cmd, timeout=60)
        assert r.returncode == 2, r.stderr
        assert what in r.stderr and out in r.stderr
    if kind == "devnull":
        assert pathlib.Path(out).is_char_device()
    if kind == "fifo":
        assert pathlib.Path(out).is_fifo()


def test_symlink_output_is_written_through_and_kept(csei, repo, tmp_path):
    scenario = small(repo, tmp_path)
    target = tmp_path / "real.h5"
    target.write_text("old")
    link = tmp_path / "link.h5"
    link.symlink_to("real.h5")
    r = run([csei, "run", str(scenario), "-o", str(link)])
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and os.readlink(link) == "real.h5"
    with h5py.File(target, "r") as f:
        assert f.attrs["complete"] == 1
    dangling = tmp_path / "dangling.h5"
    dangling.symlink_to("nowhere/x.h5")
    r = run([csei, "run", str(scenario), "-o", str(dangling)])
    assert r.returncode == 2 and "symbolic link" in r.stderr
    assert dangling.is_symlink()


def test_stale_partial_files_of_dead_processes_are_removed(csei, repo, tmp_path):
    scenario = small(repo, tmp_path)
    dead = subprocess.Popen(["true"])
    dead.wait()
    out = tmp_path / "r.h5"
    stale = tmp_path / f"r.h5.partial-{dead.pid}"
    stale.write_text("left by a killed run")
    alive = tmp_path / f"r.h5.partial-{os.getpid()}"  # this test's own process: alive
    alive.write_text("another run still writing")
    assert run([csei, "run", str(scenario), "-o", str(out)]).returncode == 0
    assert out.exists() and not stale.exists() and alive.exists()


# -------------------------------------------------------------------- inputs that are not files


@pytest.mark.parametrize("where", ["scenario", "extends", "csv", "sweep"])
def test_fifo_and_device_inputs_are_errors_not_hangs(csei, repo, tmp_path, where):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for bad in (str(fifo), "/dev/zero"):
        if where == "scenario":
            cmd = [csei, "validate", bad]
        elif where == "extends":
            (tmp_path / "v.toml").write_text(f'extends = "{bad}"\n')
            cmd = [csei, "validate", str(tmp_path / "v.toml")]
        elif where == "csv":
            text = (repo / "tests/data/small.toml").read_text()
            start, end = text.index("list = ["), text.index("]\n", text.index("list = [")) + 2
            (tmp_path / "c.toml").write_text(text[:start] + f'csv = "{bad}"\n' + text[end:])
            cmd = [csei, "validate", str(tmp_path / "c.toml")]
        else:
            cmd = [csei, "sweep", bad, "--dry-run"]
        r = run(cmd, timeout=20)
        assert r.returncode == 2, (bad, r.stderr)
        assert "not a regular file" in r.stderr and bad in r.stderr


def test_info_refuses_fifo(csei, tmp_path):
    fifo = tmp_path / "pipe.h5"
    os.mkfifo(fifo)
    r = run([csei, "info", str(fifo)], timeout=20)
    assert r.returncode == 2 and "not a regular file" in r.stderr


# -------------------------------------------------------------------- numbers


def test_set_index_overflow_is_a_clean_error(csei, repo):
    r = run([csei, "validate", str(repo / "tests/data/small.toml"), "--set",
             "innovations[99999999999999999999].q=1"])
    assert r.returncode == 2, r.stderr
    assert "internal error" not in r.stderr and "out of range" in r.stderr


def test_wrapping_organisation_counts_are_rejected(csei, tmp_path):
    # 18 x 10^18 + 446744073709551808 = 2^64 + 192: the int64 sum wraps to 192.
    rows = ["code,name,lat,lon,se_entities"] + [f"T{i},T{i},1,1,1000000000000" for i in range(18)]
    rows.append("R,R,1,1,446744073709.551808")
    (tmp_path / "w.csv").write_text("\n".join(rows) + "\n")
    scenario = tmp_path / "w.toml"
    scenario.write_text("""name = "w"
[time]
steps = 3
[territories]
csv = "w.csv"
[organisations]
scale = 1e6
of = "se_entities"
[network]
kind = "complete"
[[innovations]]
name = "x"
rule = "bass"
p = 0.01
q = 0.3
""")
    for cmd in ("validate", "run"):
        r = run([csei, cmd, str(scenario), "-o", str(tmp_path / "w.h5")][: 3 if cmd == "validate"
                                                                            else 5])
        assert r.returncode == 2, r.stdout + r.stderr
        assert "at most 2147483647" in r.stderr
    assert not (tmp_path / "w.h5").exists()


def test_huge_generated_clusters_are_bounded(csei, tmp_path):
    scenario = tmp_path / "c.toml"
    scenario.write_text("""name = "c"
[time]
steps = 3
[territories]
list = [ { code = "AA", name = "A", lat = 1.0, lon = 1.0 } ]
[organisations]
total = 50000
[network]
kind = "partners"
partners = 4
[cluster_generation]
density = 2.0
size = { kind = "fixed", value = 1e9 }
[[innovations]]
name = "x"
rule = "bass"
p = 0.01
q = 0.3
""")
    r = run([csei, "run", str(scenario), "-o", str(tmp_path / "c.h5"), "--threads", "1"],
            timeout=60)
    assert r.returncode == 0, r.stderr


def test_memory_limits_name_the_key(csei, repo, tmp_path):
    env = dict(os.environ, CSEI_MEMORY_LIMIT="4G")
    r = run([csei, "validate", str(repo / "tests/data/small.toml"), "--set",
             "organisations.total=1000000000"], env=env)
    assert r.returncode == 2, r.stderr
    assert "organisations" in r.stderr and "memory" in r.stderr
    sw = sweep_file(tmp_path, small(repo, tmp_path), samples=1000000000)
    r = run([csei, "sweep", str(sw), "--dry-run"], env=env, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "design.samples" in r.stderr and "memory" in r.stderr


# -------------------------------------------------------------------- signals


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signals_stop_world_building_quickly(csei, repo, tmp_path, sig):
    out = tmp_path / "eu.h5"
    p = subprocess.Popen([csei, "run", str(repo / "tests/data/small.toml"), "--set",
                          "organisations.total=3000000", "--set", "network.partners=12",
                          "-o", str(out), "--threads", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.7)
    t0 = time.monotonic()
    p.send_signal(sig)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert time.monotonic() - t0 < 1.5
    assert list(tmp_path.iterdir()) == []


# -------------------------------------------------------------------- full disk


@pytest.fixture
def tiny_fs(tmp_path):
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "full"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)]).returncode:
        pytest.skip("this machine does not allow mounting a tmpfs (a container without "
                    "CAP_SYS_ADMIN)")
    (mnt / "fill").write_bytes(b"\0" * 200 * 1024)
    yield mnt
    subprocess.run(["umount", str(mnt)])


def test_full_disk_is_an_output_failure(csei, repo, tmp_path, tiny_fs):
    old = tiny_fs / "r.h5"
    (tiny_fs / "fill").unlink()
    (tiny_fs / "fill").write_bytes(b"\0" * 190 * 1024)
    old.write_bytes(b"previous result")
    r = run([csei, "run", str(repo / "tests/data/small.toml"), "-o", str(old)])
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "No space left on device" in r.stderr and str(old) in r.stderr
    assert old.read_bytes() == b"previous result"  # never clobbered
    assert not list(tiny_fs.glob("*.partial-*"))
    try:  # the last free blocks too
        with open(tiny_fs / "fill2", "wb", buffering=0) as f:
            while True:
                f.write(b"\0" * 1024)
    except OSError:
        pass
    sw = sweep_file(tmp_path, small(repo, tmp_path), samples=4)
    r = run([csei, "sweep", str(sw), "-o", str(tiny_fs / "sw.h5")], timeout=120)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "No space left on device" in r.stderr
    assert "internal error" not in r.stderr


def test_failed_rename_never_says_success(csei, repo, tmp_path):
    # The output's name is taken by a folder created after the checks: the rename fails.
    scenario = small(repo, tmp_path)
    out = tmp_path / "r.h5"
    p = subprocess.Popen([csei, "run", str(scenario), "--set", "time.steps=3000", "-o", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob("r.h5.partial-*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    (out / "inside").mkdir(parents=True)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1, err
    assert "cannot move the finished file into place" in err
    assert "Success" not in err
    assert not list(tmp_path.glob("r.h5.partial-*"))


# -------------------------------------------------------------------- damaged run files


def run_file(csei, repo, tmp_path):
    out = tmp_path / "r.h5"
    assert run([csei, "run", str(repo / "tests/data/small.toml"), "-o", str(out)]).returncode == 0
    return out


@pytest.mark.parametrize("damage", ["more_names", "series_1d", "series_2d", "series_4d",
                                    "negative", "schema", "string_steps", "external_link",
                                    "array_schema", "array_name", "huge_codes", "virtual"])
def test_info_checks_what_it_reads(csei, repo, tmp_path, damage):
    out = run_file(csei, repo, tmp_path)
    with h5py.File(out, "r+") as f:
        if damage == "more_names":
            names = list(f["innovations/name"][...]) + [b"extra"]
            del f["innovations/name"]
            f["innovations/name"] = np.array(names, dtype=h5py.string_dtype())
        elif damage.startswith("series_"):
            shape = {"series_1d": (5,), "series_2d": (5, 2), "series_4d": (37, 2, 3, 2)}[damage]
            del f["series/adopters"]
            f["series/adopters"] = np.zeros(shape, dtype=np.int64)
        elif damage == "negative":
            f["territories/organisations"][0] = -5
        elif damage == "schema":
            f.attrs["schema_version"] = 99
        elif damage == "string_steps":
            f.attrs["steps"] = "thirty-six"
        elif damage == "array_schema":
            f.attrs["schema_version"] = np.array([1, 1, 1, 1], dtype=np.int64)
        elif damage == "array_name":
            f.attrs["scenario_name"] = np.array(["a", "b", "c"], dtype=h5py.string_dtype())
        elif damage == "huge_codes":
            del f["territories/code"]
            f.create_dataset("territories/code", shape=(2**40,), dtype=h5py.string_dtype(),
                             chunks=(4,))
        elif damage == "virtual":
            layout = h5py.VirtualLayout(shape=(4,), dtype="i8")
            layout[:] = h5py.VirtualSource("elsewhere.h5", "/x", shape=(4,))
            f.create_virtual_dataset("other", layout)
        else:
            f["other"] = h5py.ExternalLink("elsewhere.h5", "/x")
    r = run([csei, "info", str(out)])
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "internal error" not in r.stderr and str(out) in r.stderr


# -------------------------------------------------------------------- analysis readers


def analysis(*args):
    import sys
    return subprocess.run([sys.executable, "-m", "csei_analysis", *args], capture_output=True,
                          text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(pathlib.Path(__file__).resolve()
                                                              .parents[2] / "analysis")))


@pytest.mark.parametrize("damage", ["string_steps", "negative"])
def test_analysis_reports_damaged_runs_in_one_line(csei, repo, tmp_path, damage):
    out = run_file(csei, repo, tmp_path)
    with h5py.File(out, "r+") as f:
        if damage == "string_steps":
            f.attrs["steps"] = "thirty-six"
        else:
            f["territories/organisations"][0] = -5
    for cmd in (["plot", str(out), "-o", str(tmp_path / "plots")],
                ["report", str(out), "-o", str(tmp_path / "r.html")]):
        r = analysis(*cmd)
        assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and str(out) in r.stderr


def test_analysis_refuses_a_sweep_asking_for_petabytes(csei, repo, tmp_path):
    sw = sweep_file(tmp_path, small(repo, tmp_path), samples=2)
    out = tmp_path / "sw.h5"
    assert run([csei, "sweep", str(sw), "-o", str(out)], timeout=120).returncode == 0
    with h5py.File(out, "r+") as f:
        del f["outcomes/values"]
        f.create_dataset("outcomes/values", shape=(2**40, 2**12), dtype="f8", chunks=(1, 1))
    r = analysis("sensitivity", str(out))
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
    assert "memory" in r.stderr
