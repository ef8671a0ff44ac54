from benchmarks.transfer.run import main

raise SystemExit(main())
