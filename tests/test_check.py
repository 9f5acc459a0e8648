"""`gatekeeper check`: every mistake of a services file in one run, near misses named, and a warning for
each text a configured language would show in English."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_registry import write  # the services file of a test, in tmp_path

from gatekeeper.check import check_services
from gatekeeper.cli import main

OWN = """
[[cookies]]
name = "lang"
category = "usability"
purpose = { en = "Remembers the language you chose", ja = "選んだ表示言語を記憶します" }
[[services]]
id = "youtube"
[[services]]
id = "town-map"
name = { en = "Town map", ja = "町の地図", ko = "마을 지도", "zh-Hans" = "城镇地图", "zh-Hant" = "城鎮地圖" }
vendor = "Example Maps K.K."
category = "media"
purpose = { en = "Shows maps", ja = "地図を表示します" }
data_sent = { en = "IP address", ja = "IPアドレス" }
policy_url = "https://maps.example.net/privacy"
hosts = ["maps.example.net"]
"""

MISTAKES = """
[site]
mode = "lenient"
[[cookies]]
name = "a"
category = "tasty"
purpose = "x"
[[services]]
id = "youtbe"
[[services]]
id = "vimeo"
placholder = "video"
"""


def test_every_mistake_in_one_run_with_near_misses_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, MISTAKES)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[0] for line in err] == ["error"] * 4
    joined = "\n".join(err)
    assert "mode 'lenient'" in joined and "unknown category 'tasty'" in joined
    assert (
        "did you mean 'youtube'?" in joined
        and "unknown key 'placholder' (did you mean 'placeholder'?)" in joined
    )


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        (None, {"service 'town-map' vendor: no ja, zh-Hans, zh-Hant, ko text",
                "service 'town-map' purpose: no zh-Hans, zh-Hant, ko text",
                "service 'town-map' data_sent: no zh-Hans, zh-Hant, ko text",
                "cookie 'lang' purpose: no zh-Hans, zh-Hant, ko text"}),
        (["en", "ja"], {"service 'town-map' vendor: no ja text"}),
        (["en"], set()),
        (["ko", "en"], {"service 'town-map' vendor: no ko text", "service 'town-map' purpose: no ko text",
                        "service 'town-map' data_sent: no ko text", "cookie 'lang' purpose: no ko text"}),
    ],
)  # fmt: skip
def test_a_text_without_a_configured_language_is_a_warning(
    tmp_path: Path, languages: list[str] | None, expected: set[str]
) -> None:
    report = check_services(write(tmp_path, OWN), languages)
    assert report.exit_code == 0 and report.registry is not None
    assert {w.split(" (")[0] for w in report.warnings} == expected  # the catalog's youtube: translated


def test_an_operator_language_counts_the_catalog_texts_it_lacks(tmp_path: Path) -> None:
    folder = tmp_path / "locales" / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "gatekeeper.po").write_text('msgid "Shows maps"\nmsgstr "Affiche des cartes"\n', "utf-8")
    report = check_services(write(tmp_path, OWN), ["en", "fr"], tmp_path / "locales")
    assert any(w.startswith("service 'town-map' vendor: no fr text") for w in report.warnings)
    assert not any(w.startswith("service 'town-map' purpose") for w in report.warnings)  # fr.po has it
    counted = [w for w in report.warnings if "of the built-in catalog" in w]
    assert len(counted) == 1 and "fr/LC_MESSAGES/gatekeeper.po" in counted[0]


@pytest.mark.parametrize(
    ("tag", "hint"), [("jp", "'ja'"), ("kr", "'ko'"), ("tw", "'zh-Hant'"), ("zh-TW", "'zh-Hant'")]
)
def test_a_mistyped_language_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tag: str, hint: str
) -> None:
    assert main(["check", str(write(tmp_path, OWN)), "--languages", f"en,{tag}"]) == 2
    assert f"no catalogue for {tag!r} (did you mean {hint}?)" in capsys.readouterr().err


def test_a_clean_file_says_what_visitors_are_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, '[[services]]\nid = "youtube"\n')
    assert main(["check", str(path), "--languages", "ja,en"]) == 0
    out = capsys.readouterr()
    assert out.err == "" and "valid; policy version" in out.out and "languages: ja, en" in out.out
