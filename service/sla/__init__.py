"""Service levels, business calendars, SLA clocks, breach reviews, labour time and the reports over them."""
