"""The timeline machinery and its reference, without the pipeline.

Each event must change the delivered sources and the reference's cases as
intended (a corrected R09 ID removes its R09 case, a header-only re-send
changes nothing but staleness, ...), case life must follow the chain of report
dates, and the reference must stay independent of the package.
"""

from __future__ import annotations

import ast
import json
import shutil
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from gen_normalise import D

from safetynet.generate import timeline as timeline_module
from safetynet.generate.reference_timeline import DayExpectation
from safetynet.generate.timeline import FUTURE, Timeline, TimelineError

GEN = Path(timeline_module.__file__).parent


def day(n: int) -> date:
    """D shifted by ``n`` days."""
    return D + timedelta(days=n)


@pytest.fixture
def tl(deployment: Path, tmp_path: Path) -> Timeline:
    """A timeline over a private copy of the session's deployment."""
    shutil.copytree(deployment, tmp_path / "d")
    return Timeline(tmp_path / "d" / "config.yaml")


def status(e: DayExpectation, key: str) -> str | None:
    """The key's status on that day's extract (None: not shown)."""
    return e.rows[key].status if key in e.rows else None


def holds(e: DayExpectation, key: str) -> bool:
    """Whether the case holds (shown or suppressed)."""
    return any(key in v for v in e.holding.values())


def quiet(tl: Timeline, d: date, i: int) -> tuple[str, str]:
    """The i-th quiet (household, person)."""
    q = tl.quiet_members(d).sort_values("pid").drop_duplicates("household_id")
    return str(q["household_id"].iat[i]), str(q["pid"].iat[i])


def test_rebuilt_truth_gives_the_deployments_cases_on_the_first_run(tl: Timeline) -> None:
    expected = json.loads((tl.root / "expected_cases.json").read_text("utf-8"))
    e = tl.expect_run(D)
    assert e.holding == expected["cases"]
    assert {r.status for r in e.rows.values()} == {"NEW"} and e.stale == []
    assert e.predecessor is None and len(e.rows) == sum(len(v) for v in expected["cases"].values())


def test_a_deployment_that_is_not_the_rebuilt_truth_is_refused(deployment: Path,
                                                               tmp_path: Path) -> None:
    shutil.copytree(deployment, tmp_path / "d")
    with sqlite3.connect(tmp_path / "d" / "sources" / "civil_affairs.db") as con:
        con.execute("DELETE FROM sa_household WHERE rowid = 1")
    with pytest.raises(TimelineError, match="not the rebuilt truth"):
        Timeline(tmp_path / "d" / "config.yaml")


def test_corrected_invalid_id_resolves_its_r09_case(tl: Timeline) -> None:
    key = tl.planted("active member, wrong check character")
    hh, pid = tl.record(key)
    tl.expect_run(D)
    tl.correct_member_id(hh, pid, day(1))
    with sqlite3.connect(tl.db_path("civil_affairs")) as con:
        rows = con.execute("SELECT id_number, updated_at FROM sa_member WHERE household_id = ? "
                           "AND id_number = ?", (hh, pid)).fetchall()
    assert rows and {r[1] for r in rows} == {f"{day(1)} 08:00:00"}
    assert status(tl.expect_run(day(1)), key) == "RESOLVED"
    assert status(tl.expect_run(day(2)), key) is None


def test_header_only_resend_is_refused_and_changes_nothing(tl: Timeline, deployment: Path,
                                                           tmp_path: Path) -> None:
    shutil.copytree(deployment, tmp_path / "control")
    control = Timeline(tmp_path / "control" / "config.yaml")
    for t in (tl, control):
        t.expect_run(D)
    name = tl.header_only_month("electricity", 202610)
    path = tl.drop("electricity") / name
    header = "户号,户名,证件号码,用电地址,抄表年月,本月电量"
    assert path.read_bytes().decode("gb18030").splitlines() == [header]
    assert path.with_name(name + ".ok").exists()
    e, c = tl.expect_run(day(1)), control.expect_run(day(1))
    assert e.stale == ["electricity"] and c.stale == []
    assert e.holding == c.holding and e.statuses() == c.statuses()
    assert tl.ref.ledger.loaded[("electricity", name)].rows > 0


def test_corrected_resend_loads_and_a_collapsed_one_waits_for_acceptance(tl: Timeline) -> None:
    vacant = tl.planted("electricity and water zero in the window")
    tl.expect_run(D)
    tl.correct_month("water", 202610, {a: 3.0 for a in tl.accounts_of("water", vacant[4:])})
    e1 = tl.expect_run(day(1))
    assert status(e1, vacant) == "RESOLVED" and e1.stale == []
    tl.collapsed_month("water", 202609, keep=0.1)
    full = tl.ref.ledger.loaded[("water", "SS_202609.txt")].rows
    assert tl.expect_run(day(2)).stale == ["water"]
    assert tl.ref.ledger.loaded[("water", "SS_202609.txt")].rows == full  # the month stays
    args = tl.accept("water", "SS_202609.txt")
    assert args[:1] == ["accept"] and args[-2:] == ["--item", "SS_202609.txt"]
    e4 = tl.expect_run(day(3))
    loaded = tl.ref.ledger.loaded[("water", "SS_202609.txt")]
    assert e4.stale == [] and loaded.rows == round(0.1 * (tl.readings("water", 202609) >= 0).sum())


def test_the_next_month_enters_the_window(tl: Timeline) -> None:
    key = tl.planted("mean 500.1 kWh (unfinished month would shift it below)")
    tl.expect_run(D)
    assert holds(tl.expect_run(date(2026, 12, 2)), key)  # 202611 not delivered: window 08..10
    name = tl.deliver_month("electricity", 202611)
    assert (tl.drop("electricity") / f"{name}.ok").exists()
    e = tl.expect_run(date(2026, 12, 3))
    assert status(e, key) == "RESOLVED" and e.stale == []


def test_snapshot_versions_are_chosen_by_date(tl: Timeline) -> None:
    office = tl.planted("owns a 办公 unit")
    tl.expect_run(D)
    _, buyer = quiet(tl, D, 0)
    for unit in tl.units_of(office[4:], "办公"):
        tl.sell_unit(unit, day(1))
    tl.buy_unit([buyer], "商业", day(1))
    tl.deliver_snapshot(day(2))
    e = tl.expect_run(day(2))
    assert status(e, office) == "RESOLVED" and status(e, f"R05:{buyer}") == "NEW"
    back = tl.expect_run(day(1))  # a back-fill reads the older version
    assert status(back, office) == "OPEN" and not holds(back, f"R05:{buyer}")


def test_broken_snapshots_are_refused_and_a_copy_under_a_new_date_loads(tl: Timeline) -> None:
    tl.expect_run(D)
    first = tl.ref.ledger.property_in_force(D)
    tl.header_only_snapshot(day(1))
    assert tl.expect_run(day(1)).stale == ["property"]
    tl.collapsed_snapshot(day(2), keep=0.2)
    assert tl.expect_run(day(2)).stale == ["property"]
    name = tl.copy_snapshot(f"BDC_QLR_{D:%Y%m%d}.xlsx", day(3))
    drop = tl.drop("property")
    assert (drop / name).read_bytes() == (drop / f"BDC_QLR_{D:%Y%m%d}.xlsx").read_bytes()
    assert tl.expect_run(day(3)).stale == [] and ("property", name) in tl.ref.ledger.loaded
    assert tl.ref.ledger.property_in_force(day(3)).equals(first)


def test_emptied_personnel_table_is_refused_until_accepted(tl: Timeline) -> None:
    declared = tl.planted("declared relative of a village cadre, no filing")
    tl.expect_run(D)
    tl.empty_personnel_table("hr_relative")
    assert tl.distinct_rows()["hr_relative"] == 0
    e = tl.expect_run(day(1))
    assert e.stale == ["personnel"] and status(e, declared) == "OPEN"
    tl.accept("personnel", "hr_relative")
    e = tl.expect_run(day(2))
    assert e.stale == [] and status(e, declared) == "RESOLVED"


def test_future_timestamps_and_stamps_after_the_watermark(tl: Timeline) -> None:
    tl.expect_run(D)
    hh, _ = quiet(tl, D, 0)
    tl.change_household_amount(hh, 999.0, day(1), updated_at=FUTURE)
    with sqlite3.connect(tl.db_path("civil_affairs")) as con:
        assert con.execute("SELECT updated_at FROM sa_household WHERE household_id = ?",
                           (hh,)).fetchone() == (FUTURE,)
    tl.expect_run(day(1))
    assert tl.watermarks["sa_household"] < f"{day(2)}"  # the skewed row moves no watermark
    tl.terminate_household(hh, day(2))
    tl.expect_run(day(5))
    assert tl.watermarks["sa_household"] == f"{day(2)} 08:00:00"
    # a change made now for a back-filled day is stamped after what was already read
    assert tl.when("sa_household", day(1), None) == f"{day(2)} 08:01:00"
    assert tl.when("sa_household", day(6), None) == f"{day(6)} 08:00:00"
    with pytest.raises(TimelineError, match="before the watermark"):
        tl.change_household_amount(hh, 1.0, day(1), updated_at=f"{day(1)} 08:00:00")


def test_database_events_move_their_cases(tl: Timeline) -> None:
    keys = {w: tl.planted(w) for w in (
        "two members each own a distinct 住宅 unit", "two linked accounts (address + holder ID) sum to 550",
        "aged 75", "open-ended payroll")}
    tl.expect_run(D)
    r04 = keys["two members each own a distinct 住宅 unit"]
    spouse = tl.members(r04[4:])
    spouse = str(spouse.loc[spouse["relation"] == "配偶", "pid"].iat[0])
    (target, _), (_, dying), (second, twice), (_, rel) = (quiet(tl, D, i) for i in range(4))
    staff = tl.t["staff"]
    declarer = str(staff.loc[staff["id_ok"].astype(bool) & staff["payroll_to"].isna(), "pid"].iat[0])
    tl.move_member(spouse, r04[4:], target, day(1))
    tl.terminate_household(keys["two linked accounts (address + holder ID) sum to 550"][4:], day(1))
    tl.add_cremation(dying, day(1))
    aid = tl.t["allowances"].loc[tl.t["allowances"]["pid"] == keys["aged 75"][4:], "allowance_id"]
    tl.end_allowance(str(aid.iat[0]), day(1))
    tl.correct_staff_id(keys["open-ended payroll"][4:], tl.fresh_person()["pid"], day(1))
    tl.add_member(target, twice, day(1))
    tl.declare_relative(declarer, rel, day(1))
    e = tl.expect_run(day(1))
    assert {status(e, k) for k in keys.values()} == {"RESOLVED"}
    assert status(e, f"R01:{dying}") == "NEW" and status(e, f"R08:{twice}") == "NEW"
    assert status(e, f"R03:{rel}") == "NEW" and second != target


def test_dispositions_files(tl: Timeline) -> None:
    hidden = tl.planted("active member, impossible birth date")
    kept = tl.planted("active member, empty ID")
    comma = tl.planted("aged 75")
    slash = tl.planted("active allowance, wrong check character inside spaces (trimmed key)")
    tl.expect_run(D)
    path = tl.dispositions("dispositions_wps.csv", [(hidden, "合理解释", "已核实", "2026-11-22")],
                           encoding="gb18030")
    assert "合理解释" in path.read_bytes().decode("gb18030")
    tl.dispositions("dispositions_header.csv", [(kept, "EXPLAINED", "", "")],
                    header=("case_key", "result", "note", "suppress_until"))
    tl.dispositions("dispositions_comma.csv", [(comma, "EXPLAINED", "已核实, 登记错误", ""),
                                               (slash, "explained", "", "2026/11/23")],
                    encoding="utf-8-sig", raw={0})
    e1, e2, e3, e4 = (tl.expect_run(day(n)) for n in (1, 2, 3, 4))
    assert hidden not in e1.rows and hidden in e1.suppressed and hidden not in e2.rows
    assert status(e3, hidden) == "OPEN" and e3.rows[hidden].first_seen == D
    assert status(e1, kept) == "OPEN" and status(e1, comma) == "OPEN"
    assert slash not in e3.rows and status(e4, slash) == "OPEN"


def test_case_life_follows_the_chain_of_report_dates(tl: Timeline) -> None:
    key = tl.planted("active member, wrong check character")
    hh, pid = tl.record(key)
    new = tl.planted("payroll starts the day after D")
    tl.expect_run(D)
    e1 = tl.expect_run(day(1))
    assert status(e1, new) == "NEW" and e1.rows[new].first_seen == day(1)
    tl.correct_member_id(hh, pid, day(3))
    e3 = tl.expect_run(day(3))
    assert e3.predecessor == day(1) and status(e3, key) == "RESOLVED"
    assert status(e3, new) == "OPEN" and e3.rows[new].first_seen == day(1)
    back = tl.expect_run(day(2))  # a gap day back-filled later: predecessor day 1
    assert back.predecessor == day(1) and status(back, key) == "RESOLVED"
    again = tl.expect_run(day(3))  # the re-run keeps its predecessor
    assert again.predecessor == day(1) and again.rows == e3.rows


def test_vehicle_snapshots_are_chosen_by_date_and_a_collapsed_one_is_refused(tl: Timeline) -> None:
    car = tl.planted("小型轿车 (小型汽车, 正常) owned by an active member")
    moved = tl.planted("小型汽车 正常 in the older snapshot, 转出 in the newest")
    back = tl.planted("小型汽车 转出 in the older snapshot, 正常 in the newest")
    tl.expect_run(D)
    week = tl.expect_run(day(-7))  # a back-fill reads the older snapshot
    assert holds(week, moved) and not holds(week, back) and holds(week, car)
    plates = tl.vehicles_of(car[4:])
    assert len(plates) == 1
    tl.change_vehicle_status(plates[0], "转出")
    name = tl.deliver_vehicle_snapshot(day(2))
    path = tl.drop("vehicles") / name
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and path.with_name(name + ".ok").exists()
    e2 = tl.expect_run(day(2))
    assert status(e2, car) == "RESOLVED" and e2.stale == []
    assert status(tl.expect_run(day(1)), car) == "OPEN"  # still the snapshot dated D
    tl.deliver_vehicle_snapshot(day(3), keep=0.2)
    e3 = tl.expect_run(day(3))
    assert e3.stale == ["vehicles"] and not holds(e3, car) and holds(e3, back)
    with pytest.raises(TimelineError, match="status"):
        tl.change_vehicle_status(plates[0], "过户")


@pytest.mark.parametrize(("dropped", "absent"), [(("vehicles", "business"), ("R11", "R12")),
                                                  (("business",), ("R12",))])
def test_a_deployment_without_optional_sources_has_no_rules_for_them(
        deployment: Path, tmp_path: Path, dropped: tuple, absent: tuple) -> None:
    shutil.copytree(deployment, tmp_path / "d")
    cfg = tmp_path / "d" / "config.yaml"
    raw = yaml.safe_load(cfg.read_text("utf-8"))
    for source in dropped:
        del raw["sources"][source]
    cfg.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tl = Timeline(cfg)
    expected = json.loads((tl.root / "expected_cases.json").read_text("utf-8"))["cases"]
    e = tl.expect_run(D)
    assert e.holding == {r: v for r, v in expected.items() if r not in absent}
    assert list(e.keys_by_rule()) == [r for r in expected if r not in absent]
    assert e.stale == []
    if "vehicles" in dropped:
        with pytest.raises(TimelineError, match=r"no sources\.vehicles"):
            tl.deliver_vehicle_snapshot(day(1))


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text("utf-8"))
    out = [(n.level, n.module or "") for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    return out + [(0, a.name) for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]


def test_the_reference_family_imports_nothing_from_the_package() -> None:
    for path in sorted(GEN.glob("reference*.py")):
        for level, module in _imports(path):
            assert not module.startswith("safetynet"), (path.name, module)
            assert level == 0 or module.startswith("reference"), (path.name, module)


def test_timeline_modules_import_no_pipeline_code() -> None:
    for path in sorted(GEN.glob("timeline*.py")):
        for level, module in _imports(path):
            assert level == 0, (path.name, module)
            if module.startswith("safetynet"):
                assert module.startswith("safetynet.generate"), (path.name, module)
