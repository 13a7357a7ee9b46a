import sys

from clinic.devstack import main

sys.exit(main(sys.argv[1:]))
