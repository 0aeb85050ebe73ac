"""`csei validate` and `csei info` on sweep files and sweep results."""
import subprocess


def run(cmd, cwd=None, timeout=300):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _sweep(repo, tmp_path, key="innovations[0].q"):
    f = tmp_path / "tiny.toml"
    f.write_text(f'name = "tiny"\nscenario = "{repo / "tests/data/small.toml"}"\n'
                 'set = ["time.steps=6"]\nreplicates = 1\n[design]\nkind = "grid"\n'
                 f'[[parameters]]\nkey = "{key}"\nrange = [0.2, 0.6]\npoints = 2\n'
                 '[outcomes]\nmetrics = ["word_of_mouth.final_share"]\n')
    return f


def test_validate_says_a_sweep_file_is_one_and_checks_its_parameters(csei, repo, tmp_path):
    f = _sweep(repo, tmp_path)
    r = run([csei, "validate", str(f)])
    assert r.returncode == 0, r.stderr
    assert "ok (sweep tiny: grid design, 1 parameters, 2 points x 1 replicates = 2 runs)" in r.stdout
    assert "innovations[0].q" in r.stdout
    # a parameter path the base scenario does not read is refused, with where it is
    bad = _sweep(repo, tmp_path, key="innovations[0].cascade_probability")
    r = run([csei, "validate", str(bad)])
    assert r.returncode == 2
    assert "parameters[0]" in r.stderr and "not used by rule 'bass' (used by: cascade)" in r.stderr
    r = run([csei, "validate", str(f), "--set", "seed=3"])
    assert r.returncode == 2 and "sweep file" in r.stderr


def test_info_reads_sweep_files_and_their_results(csei, repo, tmp_path):
    f = _sweep(repo, tmp_path)
    r = run([csei, "info", str(f)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "2 points x 1 replicates = 2 runs" in r.stdout
    assert "completed: none" in r.stdout
    r = run([csei, "sweep", str(f)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run([csei, "info", str(f)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "completed: 2 ok, 0 failed of 2 runs (output/tiny.h5)" in r.stdout
    r = run([csei, "info", str(tmp_path / "output/tiny.h5")])
    assert r.returncode == 0, r.stderr
    assert "(sweep results)" in r.stdout
    assert "grid, 2 points x 1 replicates = 2 runs" in r.stdout
    assert "completed:     2 ok, 0 failed, 0 pending" in r.stdout
    assert "innovations[0].q" in r.stdout
