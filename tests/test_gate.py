"""The quote check on crafted written answers: what must pass passes, what must fail fails."""

from __future__ import annotations

import pytest

from askculture.answering import Citation
from askculture.gate import NOT_IN_DOCUMENTS, check, cited_numbers, number_values, split_written

CO_CHAIRS_RU = (
    "Заседание провели министр культуры и информации Казахстана Аида Балаева и министр культуры "
    "России Ольга Любимова."
)
ROADMAP_KK = (
    "Отырыс барысында Темірбек Жүргенов атындағы Қазақ ұлттық өнер академиясы мен Ресей театр "
    "өнері институты (ГИТИС) ынтымақтастықты тереңдету жөніндегі жол картасына қол қойды."
)
GRANTS_RU = "На второй конкурс поступило более 10 тысяч заявок, поддержку получили 1 189 проектов."
MEETING_EN = "The fourth meeting of the sub-commission took place in Moscow on 10 October."


def cite(n: int, quote: str, date: str | None = "2025-10-11", lang: str = "ru") -> Citation:
    """A citation of ``quote`` as if cut from a document that starts with it."""
    return Citation(n, f"doc{n}", f"Title {n}", date, "Ministry", None, f"d{n}.md", lang,
                    quote, 0, len(quote))  # fmt: skip


EVIDENCE = [
    cite(1, CO_CHAIRS_RU),
    cite(2, ROADMAP_KK, "2025-10-10", "kk"),
    cite(3, GRANTS_RU, "2024-06-11"),
    cite(4, MEETING_EN, "2025-10-11", "en"),
]


@pytest.mark.parametrize(
    "written",
    [
        "Olga Lyubimova and Aida Balayeva co-chaired the meeting [1].",
        "The meeting was chaired by Aida Balayeva and Olga Lyubimova [1]",
        "Аида Балаева мен Ольга Любимова отырысты өткізді [1].",
        "The roadmap was signed by the Zhurgenov academy and GITIS [2].",
        "Дорожную карту подписали академия имени Жургенова и ГИТИС [2].",
        "More than 10,000 applications were received and 1,189 projects were supported [3].",
        "Более 10 000 заявок [3].",
        "Over 10 thousand applications came in [3].",
        "The meeting took place in Moscow on 10 October [4].",
        "It was held in Moscow, as reported on 11 October 2025 [4].",
        "The ministers Balayeva and Lyubimova [1] met in Moscow [4].",
        "Balayeva [1, 4] chaired the meeting.",
        "Aida Balayeva chaired it. [1]",
        "O. Lyubimova co-chaired the meeting [1].",
        "**Balayeva** and *Lyubimova* co-chaired it [1].",
    ],
)
def test_supported_answers_pass(written: str) -> None:
    verdict = check(written, EVIDENCE)
    assert verdict.passed, verdict.reason
    assert verdict.reason is None and verdict.text
    assert "[" in verdict.text


@pytest.mark.parametrize(
    ("written", "culprit"),
    [
        ("Vladimir Putin co-chaired the meeting [1].", "Vladimir"),
        ("Putin co-chaired the meeting [1].", "Putin"),
        ("Путину доложили о заседании [1].", "Путину"),
        ("UNESCO hosted the meeting [1].", "UNESCO"),
        ("Olga Lyubimova and Dmitry Peskov co-chaired it [1].", "Dmitry"),
        ("Lyubimova signed the roadmap with GITIS [1].", "GITIS"),  # GITIS is only in [2]
        ("The meeting took place in Beijing [4].", "Beijing"),
        ("More than 12,000 applications were received [3].", "12,000"),
        ("Over 10 million applications came in [3].", "10"),
        ("Support went to 1,190 projects [3].", "1,190"),
        ("The meeting took place on 12 October [4].", "12"),
        ("The meeting took place on 10 November [4].", "November"),
        ("The roadmap was signed in 2019 [2].", "2019"),
        ("Отырыс 12 қазанда өтті [4].", "12"),
        ("Three applications were received [3].", None),
    ],
)
def test_a_name_number_or_date_the_cited_quotes_lack_fails(
    written: str, culprit: str | None
) -> None:
    verdict = check(written, EVIDENCE)
    assert not verdict.passed
    assert verdict.text == ""
    assert verdict.reason and "do not contain" in verdict.reason
    if culprit:
        assert culprit in verdict.reason


def test_a_citation_of_no_provided_sentence_fails_the_whole_answer() -> None:
    verdict = check("Balayeva co-chaired it [1]. Lyubimova too [7].", EVIDENCE)
    assert not verdict.passed and "[7]" in (verdict.reason or "")


def test_sentences_without_a_citation_are_dropped() -> None:
    verdict = check(
        "The meeting was a great success. Aida Balayeva co-chaired it [1]. Putin sent greetings.",
        EVIDENCE,
    )
    assert verdict.passed
    assert verdict.text == "Aida Balayeva co-chaired it [1]."
    assert verdict.dropped == ("The meeting was a great success.", "Putin sent greetings.")


def test_an_answer_citing_nothing_fails() -> None:
    verdict = check("Aida Balayeva co-chaired the meeting.", EVIDENCE)
    assert not verdict.passed and "cites a quote" in (verdict.reason or "")
    assert not check("", EVIDENCE).passed
    assert not check("   \n ", EVIDENCE).passed


def test_at_most_three_cited_sentences_are_kept() -> None:
    written = " ".join(f"Aida Balayeva co-chaired it, says sentence {w} [1]." for w in "abcd")
    verdict = check(written, EVIDENCE)
    assert verdict.passed
    assert len(split_written(verdict.text)) == 3 and len(verdict.dropped) == 1


@pytest.mark.parametrize(
    "written",
    [
        NOT_IN_DOCUMENTS,
        "not in the documents.",
        f"**{NOT_IN_DOCUMENTS}**",
        "Sorry: NOT IN THE DOCUMENTS",
    ],
)
def test_the_fixed_not_in_the_documents_reply_is_recognised(written: str) -> None:
    verdict = check(written, EVIDENCE)
    assert not verdict.passed and verdict.not_in_documents


def test_markers_are_normalised_and_ranges_expand() -> None:
    assert cited_numbers("a [1, 2] b [3-4] c [2]") == [1, 2, 3, 4]
    assert (
        check("Balayeva co-chaired it [1, 4].", EVIDENCE).text == "Balayeva co-chaired it [1][4]."
    )


def test_a_capitalised_word_the_question_uses_in_lower_case_is_not_a_name() -> None:
    written = "Отырысты Мәдениет министрі Аида Балаева өткізді [1]."
    assert not check(written, EVIDENCE).passed
    assert check(written, EVIDENCE, question="Отырысты қай мәдениет министрі өткізді?").passed
    # a name the question itself brings in is still checked
    premise = "Did Putin co-chair the meeting?"
    assert not check("Putin co-chaired it [1].", EVIDENCE, question=premise).passed


def test_numbers_are_read_by_value() -> None:
    assert {"10000", "1189"} <= number_values(GRANTS_RU)
    assert {"2025", "10", "11"} <= number_values("от 11.10.2025 и 2025-10-11")
    # a figure with a magnitude word is its full value only: "10 тысяч" is no evidence for "10"
    assert number_values("5,67 млрд") == {"5670000000"}


def test_a_line_break_ends_a_sentence_and_an_echo_of_the_prompt_ends_the_answer() -> None:
    verdict = check("Aida Balayeva co-chaired it\n[1]\nLyubimova too [1]", EVIDENCE)
    assert verdict.passed and verdict.text == "Aida Balayeva co-chaired it [1] Lyubimova too [1]"
    echo = "Balayeva co-chaired it [1].\n[5] (2025-10-11) Putin attended.\n\nQuestion: Who else?"
    verdict = check(echo, EVIDENCE)
    assert verdict.passed and verdict.text == "Balayeva co-chaired it [1]."
