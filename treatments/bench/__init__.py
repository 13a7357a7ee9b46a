"""A clinic-sized data set (`manage.py generate_clinic`) and the benchmark suite (`make bench`)."""
