"""Data shipped with costwarden: the price book (price_book.csv) and the licences of the catalogues it comes from."""
