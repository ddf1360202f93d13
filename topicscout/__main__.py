from topicscout.cli import main

main()
