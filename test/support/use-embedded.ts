process.env.TEST_DATABASE = 'embedded';
