import pytest

from stripe_emulator.forms import decode_form


def test_nested_brackets_become_dicts_and_lists():
    text = (
        "amount=2000&metadata[payment_id]=abc&automatic_payment_methods[enabled]=true"
        "&expand[0]=latest_charge&expand[1]=customer&card[number]=4242"
    )
    assert decode_form(text) == {
        "amount": "2000",
        "metadata": {"payment_id": "abc"},
        "automatic_payment_methods": {"enabled": "true"},
        "expand": ["latest_charge", "customer"],
        "card": {"number": "4242"},
    }


def test_indexes_are_ordered_numerically_and_empty_brackets_append():
    assert decode_form("x[10]=k&x[2]=c&x[0]=a")["x"] == ["a", "c", "k"]
    assert decode_form(b"expand[]=a&expand[]=b") == {"expand": ["a", "b"]}


def test_blank_values_and_escapes_are_kept():
    assert decode_form("metadata[note]=&email=a%40b.c") == {
        "metadata": {"note": ""},
        "email": "a@b.c",
    }
    assert decode_form(None) == {}
    assert decode_form("0=a") == {"0": "a"}


def test_a_key_used_as_value_and_container_is_refused():
    with pytest.raises(ValueError):
        decode_form("metadata=x&metadata[a]=b")
