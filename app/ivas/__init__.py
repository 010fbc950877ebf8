"""Independent verification addresses (IVAs): phone, fax, postal address, in person."""
