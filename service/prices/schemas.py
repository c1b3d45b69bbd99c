"""The price list's and the one-off contracts' contract."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

from service.directory.schemas import page_of
from service.fields import Code, Day, Line
from service.paging import PageArgs

#: The active ISO 4217 currency codes.
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF
    CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF
    IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
    MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES
    VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL""".split()
)
CURRENCY = validate.OneOf(sorted(CURRENCIES), error="an ISO 4217 currency code, e.g. RUB, EUR, USD")
#: Below what the price column holds.
MAX_PRICE = 9_999_999_999


def _positive(value: Decimal) -> None:
    if not 0 < value <= MAX_PRICE:
        raise ValidationError(f"above 0 and at most {MAX_PRICE}")


def _price(**kwargs: object) -> fields.Decimal:
    return fields.Decimal(
        places=2,
        as_string=True,
        validate=_positive,
        metadata={
            "description": "Above zero, in `currency`, two decimals.",
            "exclusiveMinimum": True,
            "minimum": 0,
            "maximum": MAX_PRICE,
        },
        **kwargs,  # type: ignore[arg-type]
    )


class PriceItemSchema(Schema):
    """One price of the list."""

    id = fields.Integer()
    equipment_class = fields.String()
    vendor = fields.String(metadata={"description": "Empty for a price of the whole class."})
    model = fields.String(metadata={"description": "Empty unless the price is of one model of the vendor."})
    item = fields.String()
    price = fields.Decimal(as_string=True)
    currency = fields.String()
    valid_from = fields.Date(metadata={"description": "Valid from this day until the item's next price."})


class PriceCreateSchema(Schema):
    """A new price: of a new item, or of an item that has one, from a later day (the old one is kept)."""

    equipment_class = Code(max_length=40, required=True, validate=validate.Length(min=1))
    vendor = Line(max_length=80, load_default="")
    model = Line(max_length=200, load_default="", metadata={"description": "Needs `vendor`."})
    item = Line(max_length=120, required=True, min_length=1)
    price = _price(required=True)
    currency = fields.String(load_default="RUB", validate=CURRENCY)
    valid_from = Day(required=True)


class PriceChangeSchema(Schema):
    """A correction of a price (any of these fields; a price that changes from a day is a new price)."""

    item = Line(max_length=120, min_length=1)
    price = _price()
    currency = fields.String(validate=CURRENCY)
    valid_from = Day()


class PriceListArgsSchema(PageArgs):
    """The price list's filters, text search and paging."""

    q = Line(max_length=200, metadata={"description": "Text to look for in the class, vendor, model or item."})
    equipment_class = Code(data_key="class", max_length=40, metadata={"description": "Only this equipment class."})
    vendor = Line(max_length=80, metadata={"description": "Only prices of this vendor (empty: of whole classes)."})
    model = Line(max_length=200, metadata={"description": "Only prices of this model."})
    item = Line(max_length=120, metadata={"description": "Only this item."})
    on = Day(
        metadata={"description": "Only the prices valid on this day: per item the latest from that day or before."}
    )


PriceItemPageSchema = page_of(PriceItemSchema, "PriceItemPage")


class ContractLineSchema(Schema):
    """One line of an accepted estimate, as the contract copied it."""

    item = fields.String()
    quantity = fields.Integer()
    price = fields.String(metadata={"description": "A decimal, two places."})
    amount = fields.String(metadata={"description": "price x quantity, a decimal with two places."})


class OneOffContractSchema(Schema):
    """The contract of one per-call job, recorded when the client accepted its estimate."""

    number = fields.String(metadata={"description": "Its own series: `PC-<year>-<6 digits>`."})
    client = fields.Function(lambda contract: contract.client.code)
    ticket = fields.Function(lambda contract: contract.ticket.number)
    lines = fields.List(fields.Nested(ContractLineSchema))
    total = fields.Decimal(as_string=True)
    currency = fields.String()
    accepted_by = fields.String(metadata={"description": "The client's contact of the ticket, who accepted."})
    accepted_at = fields.DateTime()
    paid = fields.Boolean()
    paid_on = fields.Date(allow_none=True)


class OneOffContractChangeSchema(Schema):
    """The payment of a contract: `paid` without `paid_on` means paid today; unpaid clears the day."""

    paid = fields.Boolean()
    paid_on = Day(allow_none=True)


class OneOffContractArgsSchema(PageArgs):
    """The one-off contracts' filters and paging."""

    client = Code(max_length=40, metadata={"description": "Only this client's (its code)."})
    paid = fields.Boolean(metadata={"description": "Only paid (true) or only unpaid (false) contracts."})
    ticket = Code(max_length=20, metadata={"description": "Only the contract of this ticket (its number)."})


OneOffContractPageSchema = page_of(OneOffContractSchema, "OneOffContractPage")
