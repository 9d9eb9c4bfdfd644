"""audiox reproduce: the papers' protocols, paper next to ours."""

from dataclasses import replace

from tests.conftest import TINY_ADVERSARIAL_SPEC, TINY_CONFOUND_SPEC, TINY_VOCALS_SPEC


def test_reproduce_prints_each_papers_protocol_next_to_ours(tiny_confound, tiny_vocals, tmp_path, capsys):
    from audiox_bench.reproduce import PROTOCOLS, reproduce

    tiny = {"confound": TINY_CONFOUND_SPEC, "vocals": TINY_VOCALS_SPEC, "adversarial": TINY_ADVERSARIAL_SPEC}
    protocols = [
        replace(p, spec=replace(p.spec, tasks=tuple(tiny[t] for t in p.spec.tasks)), quick_examples=n)
        for p, n in zip(PROTOCOLS, (12, 2, 2))
    ]
    table = reproduce(tmp_path, quick=True, progress=False, protocols=protocols)
    assert set(table["protocol"]) == {"audioLIME", "SLIME contents", "veracity"}
    rows = table.set_index("quantity")
    assert rows.loc["accuracy_t_dr-pno of the confounded classifier", "paper"] == "0.1258"
    assert any(q.startswith("mean_inp: mean N_ce") for q in rows.index)
    assert (tmp_path / "reproduce.md").read_text().startswith("| protocol | quantity | paper | ours | n |")
    assert all((tmp_path / name / "run.json").is_file() for name in ("audiolime", "mishra", "praher"))
