"""The platform's date formats per language (FORMAT_MODULE_PATH): one way to write a date in each."""
