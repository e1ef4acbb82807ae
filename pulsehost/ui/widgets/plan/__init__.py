"""Plan screen widgets: the train table and where a file error points."""
